/**
 * runFusedTrials: K compatible trials (same fusion key, fusion-key.ts) trained in lockstep as
 * one stacked model, each with its own seed, step size, parent gates, checkpoints, progress
 * and result. The composition root of fused training, beside runTrial: backend, dataset,
 * member gates, stacked network and optimiser, fused loop.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterInfo, RunTrialOptions, TrialResult, TrialSpec } from '../types.js';
import { initBackend } from '../backend/init-backend.js';
import { deviceLost, whenDeviceLost } from '../backend/webgpu-device.js';
import type { Dataset } from '../datasets/dataset.js';
import { loadDataset as defaultLoadDataset } from '../datasets/index.js';
import { planNetwork } from '../models/architecture.js';
import { planRegime } from '../regimes.js';
import { biasFor, loadGates, lostWithin, outputsFor } from '../run-trial.js';
import { checkGates } from '../trial-spec.js';
import { FusionError } from './errors.js';
import { fusionBlocker, fusionMismatch } from './fusion-key.js';
import { fusedTrainLoop } from './fused-train-loop.js';
import { buildStackedModel, type StackedMember } from './stacked-model.js';
import { createStackedOptimizer } from './stacked-optimizer.js';

export { FusionError };

/**
 * One member: its resolved spec and the options runTrial would take for it (its gates among
 * them). The members share one process and so one device: the first member's gpuIndex places
 * the stack.
 */
export interface FusedTrialInput {
  spec: TrialSpec;
  options?: RunTrialOptions;
}

/**
 * A member's outcome: its result (succeeded, diverged or cancelled, as runTrial returns), or the
 * error that kept it out of the stack (e.g. its parent checkpoint is missing). The other
 * members are not affected by one member's error.
 */
export type FusedOutcome = { ok: true; result: TrialResult } | { ok: false; error: unknown };

export interface RunFusedDeps {
  loadDataset?: (spec: TrialSpec['dataset']) => Promise<Dataset>;
  /** Steps between loss read-backs (default 100). */
  readEvery?: number;
  /** Each member's outcome as soon as it is final (members leave the stack at different times). */
  onOutcome?: (index: number, outcome: FusedOutcome) => void;
}

/** Throws FusionError unless every member can share the first member's stack. */
export function assertFusable(specs: readonly TrialSpec[]): void {
  if (specs.length === 0) return;
  const blocker = fusionBlocker(specs[0]);
  if (blocker) throw new FusionError(`member 0 cannot be fused: ${blocker}`, { member: 0 });
  specs.forEach((spec, i) => {
    const why = i === 0 ? undefined : fusionMismatch(specs[0], spec);
    if (why) throw new FusionError(`member ${i} cannot share member 0's stack: ${why}`, { member: i });
  });
}

/**
 * Train `members` as one stack. Each member's result is what runTrial(member.spec) would give
 * (test/fused/fused-vs-unfused.test.ts; on webgpu to float tolerance,
 * test/webgpu/fused-webgpu.test.ts); outcomes are in member order. Throws FusionError for
 * incompatible members and NpfError subclasses for what they all share (backend, dataset); a
 * lost WebGPU device throws DeviceLostError (retryable) for every member not yet settled, whose
 * later outcomes are then dropped.
 */
export async function runFusedTrials(members: readonly FusedTrialInput[], deps: RunFusedDeps = {}): Promise<FusedOutcome[]> {
  const specs = members.map((m) => m.spec);
  assertFusable(specs);
  if (members.length === 0) return [];
  const first = specs[0];
  const choice = await initBackend(first.backend, false, { gpuIndex: members[0].options?.gpuIndex });
  const adapter: AdapterInfo | undefined = choice.adapter && {
    vendor: choice.adapter.vendor,
    architecture: choice.adapter.architecture,
    device: choice.adapter.device,
    description: choice.adapter.description,
    software: choice.adapter.software,
  };
  const dataset = await (deps.loadDataset ?? defaultLoadDataset)(first.dataset);
  const plan = planNetwork(first.arch, dataset.inputShape, outputsFor(first, dataset), biasFor(first));
  const outcomes = new Array<FusedOutcome | undefined>(members.length);
  // Set when the stack fails on a GPU (device lost): the members still training are then reported
  // by the caller (with the thrown error), not as the 'cancelled' results their stopped loop gives.
  let failed = false;
  const settle = (i: number, outcome: FusedOutcome): void => {
    if (failed) return;
    outcomes[i] = outcome;
    deps.onOutcome?.(i, outcome);
  };

  // Each member's own gates (its parent's checkpoint, options.gates); a member whose gates are
  // missing, refused or unreadable stays out, alone.
  const stacked: { index: number; member: StackedMember }[] = [];
  for (const [i, spec] of specs.entries()) {
    try {
      const gates = members[i].options?.gates;
      checkGates(spec, gates);
      const regime = planRegime(spec.regime, spec.stage, spec.stageEvery);
      const featureFromCheckpoint = await loadGates(spec, regime, plan, gates);
      stacked.push({ index: i, member: { seed: spec.seed, regime, featureFromCheckpoint } });
    } catch (error) {
      settle(i, { ok: false, error });
    }
  }
  if (stacked.length === 0) return outcomes as FusedOutcome[];

  const model = buildStackedModel({
    plan,
    regime: planRegime(first.regime, first.stage, first.stageEvery),
    init: first.init,
    gate: first.gate,
    members: stacked.map((s) => s.member),
  });
  const optimizer = createStackedOptimizer(
    first.optimizer.name,
    stacked.map((s) => specs[s.index].optimizer.lr),
    model.trainable,
  );
  // On a lost device the loop is stopped too (between steps), not left running beside the next work.
  const stop = new AbortController();
  try {
    const runs = await Promise.all(
      stacked.map(async ({ index }) => {
        const { spec, options = {} } = members[index];
        const checkpointDir = options.checkpointDir ?? (spec.checkpoints ? await mkdtemp(join(tmpdir(), 'npf-checkpoints-')) : tmpdir());
        const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
        return { spec, checkpointDir, signal, onProgress: options.onProgress };
      }),
    );
    const training = fusedTrainLoop({
      members: runs,
      model,
      optimizer,
      dataset,
      backend: choice.backend,
      backendNote: choice.note,
      adapter,
      // Frozen gates once per example where the products do not depend on the batch size.
      cacheGates: choice.backend === 'wasm' || choice.backend === 'wasm-blas' || choice.backend === 'cpu',
      readEvery: deps.readEvery,
      onResult: (j, result) => settle(stacked[j].index, { ok: true, result }),
    });
    if (choice.backend !== 'webgpu') {
      await training;
    } else {
      // As runTrial: a lost GPU device fails the stack with DeviceLostError, whether the loss
      // surfaces as a failed read, a hung one, or not at all.
      training.catch(() => undefined);
      try {
        await Promise.race([training, whenDeviceLost()]);
      } catch (err) {
        failed = true;
        stop.abort();
        throw deviceLost() ?? (await lostWithin(250)) ?? err;
      }
    }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  return outcomes as FusedOutcome[];
}
