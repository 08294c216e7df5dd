/**
 * runTrial: one training trial of the paper's networks, from a resolved TrialSpec to a
 * TrialResult. The composition root of the science core: backend, dataset, network (regime,
 * gates from a checkpoint), training loop. Worker processes, `npf train` and the benchmarks
 * call this.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterInfo, CheckpointRef, RunTrialOptions, TrialResult, TrialSpec } from './types.js';
import { checkGates } from './trial-spec.js';
import { InvalidInputError } from '../common/errors.js';
import { initBackend } from './backend/init-backend.js';
import type { BackendChoice } from './backend/backend-choice.js';
import { deviceLost, whenDeviceLost } from './backend/webgpu-device.js';
import type { Dataset } from './datasets/dataset.js';
import { loadDataset as defaultLoadDataset } from './datasets/index.js';
import { planNetwork, type NetworkPlan } from './models/architecture.js';
import type { LayerStack } from './models/network.js';
import { readCheckpoint } from './checkpoint/checkpoint-io.js';
import { CheckpointError } from './checkpoint/errors.js';
import { gatesFromCheckpoint } from './checkpoint/model-checkpoint.js';
import { decodeResumeState } from './checkpoint/resume-state.js';
import { isStaged, planRegime, regimeDisplayName, type RegimePlan } from './regimes.js';
import { buildTrialModel } from './train/trial-model.js';
import { trainLoop } from './train/train-loop.js';
import type { MeasureHook, MeasureHookFactory } from './train/measure-hook.js';
import { kernelMeasures } from './train/kernel-measures.js';
import { TrialSetupError } from './train/errors.js';

export { TrialSetupError };

/** Seams for tests; defaults are the real implementations. */
export interface RunTrialDeps {
  loadDataset?: (spec: TrialSpec['dataset']) => Promise<Dataset>;
  /** Builds the kernel-measurement hook for spec.measure (default: kernelMeasures, science/npk/). */
  measure?: MeasureHookFactory;
  /** Steps between loss read-backs (default 100). */
  readEvery?: number;
}

/** Output units of the network for `dataset` (refuses softmax on a one-output regression set). */
export function outputsFor(spec: TrialSpec, dataset: Dataset): number {
  if (dataset.numClasses === 1 && spec.loss === 'cross-entropy') {
    throw new TrialSetupError(`dataset ${dataset.name} has one regression output (-1/+1 targets): use loss 'squared', not 'cross-entropy'`, { field: 'loss' });
  }
  return dataset.numClasses;
}

/** Whether the network's layers have biases. */
export function biasFor(spec: TrialSpec): boolean {
  // The nu_t notebook's network has no biases; sign-sqrt2 implies that setting.
  if (spec.init === 'sign-sqrt2') return false;
  return spec.arch.kind === 'fc' ? spec.arch.bias !== false : true;
}

/** The frozen gating network of FLNPF / stage k >= 1 from the parent checkpoint `gates` (undefined for other regimes). */
export async function loadGates(spec: TrialSpec, regime: RegimePlan, plan: NetworkPlan, gates: CheckpointRef | undefined): Promise<LayerStack | undefined> {
  if (regime.featureSource !== 'checkpoint' || !gates) return undefined;
  const content = await readCheckpoint(gates);
  const wanted = regime.parentCheckpoint;
  // FLNPF takes only the ReLU run's 'best' weights, stage k the best-so-far weights of its epoch (docs/protocol.md).
  if (wanted && content.header.name !== wanted.name) {
    const who = isStaged(spec.regime) ? `stage ${spec.stage}` : regimeDisplayName(spec.regime);
    const what = wanted.atEpoch === undefined ? `best-test-accuracy ('${wanted.name}')` : `'${wanted.name}'`;
    throw new CheckpointError(gates.path, 'wrong-kind', `${who} needs the ReLU run's ${what} weights, this file holds '${content.header.name}' (epoch ${content.header.epoch})`);
  }
  return gatesFromCheckpoint(content, plan, gates.path);
}

/** The device-lost error if the WebGPU device is lost within `ms`. */
export async function lostWithin(ms: number): Promise<Error | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([
    whenDeviceLost().catch((e: unknown) => e as Error),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
  ]);
  clearTimeout(timer);
  return late;
}

/**
 * Train one trial. FLNPF and stage k >= 1 need opts.gates (the ReLU parent's checkpoint, read
 * and verified here); every other regime refuses gates. Same spec + seed + backend (and gates)
 * give a bit-identical result (initial weights and shuffles come from the seed through the
 * project's own PRNG; the wasm and cpu backends are deterministic). A NaN/Inf loss ends it with status 'diverged'; opts.signal cancels it between
 * steps (status 'cancelled'). Throws NpfError subclasses for bad input (dataset, checkpoint,
 * backend), never for a diverging or cancelled run.
 */
export async function runTrial(spec: TrialSpec, opts: RunTrialOptions = {}, deps: RunTrialDeps = {}): Promise<TrialResult> {
  checkGates(spec, opts.gates);
  const regime = planRegime(spec.regime, spec.stage, spec.stageEvery);
  if (spec.init === 'sign-sqrt2' && spec.arch.kind !== 'fc') {
    throw new InvalidInputError(`init 'sign-sqrt2' is the nu_t experiment's FC initialiser; arch '${spec.arch.kind}' takes 'glorot-uniform'`, { field: 'init' });
  }
  const choice: BackendChoice = await initBackend(spec.backend, spec.arch.kind !== 'fc', { gpuIndex: opts.gpuIndex });
  const adapter: AdapterInfo | undefined = choice.adapter && {
    vendor: choice.adapter.vendor,
    architecture: choice.adapter.architecture,
    device: choice.adapter.device,
    description: choice.adapter.description,
    software: choice.adapter.software,
  };
  const dataset = await (deps.loadDataset ?? defaultLoadDataset)(spec.dataset);
  const plan = planNetwork(spec.arch, dataset.inputShape, outputsFor(spec, dataset), biasFor(spec));
  const featureFromCheckpoint = await loadGates(spec, regime, plan, opts.gates);
  const model = buildTrialModel({ plan, regime, init: spec.init, gate: spec.gate, seed: spec.seed, featureFromCheckpoint });
  let measure: MeasureHook | undefined;
  try {
    measure = spec.measure ? await (deps.measure ?? kernelMeasures)(spec, dataset) : undefined;
    const checkpointDir = opts.checkpointDir ?? (spec.checkpoints || opts.resumeEveryMs !== undefined ? await mkdtemp(join(tmpdir(), 'npf-checkpoints-')) : tmpdir());
    const resume = opts.resume ? decodeResumeState(await readCheckpoint(opts.resume), spec, opts.resume.path) : undefined;
    // On a lost device the loop is stopped too (between steps), not left running beside the next trial.
    const stop = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
    const training = trainLoop({
      spec,
      model,
      dataset,
      backend: choice.backend,
      backendNote: choice.note,
      adapter,
      checkpointDir,
      signal,
      onProgress: opts.onProgress,
      measure,
      readEvery: deps.readEvery,
      resume,
      resumeEveryMs: opts.resumeEveryMs,
    });
    if (choice.backend !== 'webgpu') return await training;
    // A lost GPU device fails this attempt with DeviceLostError (retryable), whether the loss
    // surfaces as a failed read, a hung one, or not at all.
    training.catch(() => undefined); // if the race is lost to the device, the loop's own failure follows unobserved
    try {
      return await Promise.race([training, whenDeviceLost()]);
    } catch (err) {
      stop.abort();
      // A read can fail a moment before Dawn reports the loss itself: give the report a moment.
      throw deviceLost() ?? (await lostWithin(250)) ?? err;
    }
  } finally {
    measure?.dispose?.();
    model.dispose();
  }
}
