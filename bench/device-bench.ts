/**
 * Device benchmark (not a test): ms per training step of FC (784-128x5-10) and GCONV (CIFAR
 * shape 32x32x3) at batch 32, in every regime, on each GPU backend this machine has (webgpu on a
 * hardware adapter; tensorflow-gpu when @tensorflow/tfjs-node-gpu is installed and sees a CUDA
 * device) against wasm on the same machine. Random data, nothing downloaded. At most ~5 minutes:
 * the cases share a time budget (GPU cases first, wasm GCONV, the slowest, last); a case that no
 * longer fits is reported as skipped, never silently dropped.
 *
 *   npm run bench:device [-- --budget-s 240 --steps 20 --archs fc,gconv --regimes relu,dnpfl
 *                           --image 32 --allow-software]
 *
 * Prints progress on stderr and ONE JSON line on stdout: the machine, the adapter(s), and
 * { backend, arch, regime, msPerStep, steps } per case; 'webgpu+native-filter' is one GCONV case
 * with tfjs-backend-webgpu's own Conv2DBackpropFilter instead of npf-sweep's shifted matMuls. With no hardware GPU it says so and
 * exits 0; --allow-software also times a software adapter (Mesa's lavapipe), for information.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { probeWebgpu } from '../science/backend/dawn.js';
import { describeAdapter } from '../science/backend/gpu-adapter.js';
import { initBackend, installedBackends } from '../science/backend/init-backend.js';
import { planNetwork } from '../science/models/architecture.js';
import { createStack, inputBatchShape } from '../science/models/network.js';
import { setNativeConvGrads } from '../science/models/ops.js';
import { mulberry32, rngFor } from '../science/models/prng.js';
import { makeTarget } from '../science/train/loss.js';
import { createOptimizer } from '../science/train/optimizer.js';
import { REGIMES, planRegime } from '../science/regimes.js';
import { trainStep } from '../science/train/train-step.js';
import { buildTrialModel } from '../science/train/trial-model.js';
import type { AdapterInfo, Regime } from '../science/types.js';

type Arch = 'fc' | 'gconv';
type GpuBackend = 'webgpu' | 'tensorflow-gpu';
/** webgpu with its own Conv2DBackpropFilter kernel instead of the shifted matMuls (science/models/ops.ts). */
type CaseBackend = GpuBackend | 'webgpu+native-filter' | 'wasm';

interface Args {
  budgetS: number;
  steps: number;
  archs: Arch[];
  regimes: Regime[];
  image: number;
  batch: number;
  allowSoftware: boolean;
}

interface CaseResult {
  backend: string;
  arch: Arch;
  regime: Regime;
  /** Median-free on purpose: one timed block of `steps` steps, ended by one read-back. */
  msPerStep: number | null;
  steps: number;
  skipped?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { budgetS: 240, steps: 20, archs: ['fc', 'gconv'], regimes: [...REGIMES], image: 32, batch: 32, allowSoftware: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--allow-software') {
      args.allowSoftware = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--budget-s') args.budgetS = Number(value);
    else if (flag === '--steps') args.steps = Number(value);
    else if (flag === '--archs') args.archs = value.split(',') as Arch[];
    else if (flag === '--regimes') args.regimes = value.split(',') as Regime[];
    else if (flag === '--image') args.image = Number(value);
    else if (flag === '--batch') args.batch = Number(value);
    else throw new Error(`unknown flag ${flag}`);
  }
  for (const a of args.archs) if (a !== 'fc' && a !== 'gconv') throw new Error(`--archs: ${a} is not fc or gconv`);
  for (const r of args.regimes) if (!REGIMES.includes(r)) throw new Error(`--regimes: ${r} is not one of ${REGIMES.join(', ')}`);
  return args;
}

/** NVIDIA GPU models from the driver's /proc files (what tensorflow-gpu runs on), if readable. */
function nvidiaModels(): string[] {
  const dir = '/proc/driver/nvidia/gpus';
  try {
    return readdirSync(dir).map((bus) => /Model:\s*(.*)/.exec(readFileSync(`${dir}/${bus}/information`, 'utf8'))?.[1]?.trim() ?? bus);
  } catch {
    return [];
  }
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * ms/step of one case: 1 untimed warm-up step (shader compilation, JIT), one timed step to size
 * the block, then a timed block of up to `args.steps` steps fitting in `sliceMs` (none if the
 * single step already fills it), each ended by one asynchronous read (so queued device work
 * is inside the timing).
 */
async function timeCase(arch: Arch, regime: Regime, args: Args, sliceMs: number): Promise<{ ms: number; steps: number }> {
  const inputShape: [number, number, number] = arch === 'fc' ? [28, 28, 1] : [args.image, args.image, 3];
  const plan = planNetwork(arch === 'fc' ? { kind: 'fc', width: 128, depth: 5 } : { kind: 'gconv' }, inputShape, 10, true);
  const regimePlan = planRegime(regime, regime === 'stage' ? 1 : undefined);
  // flnpf / stage k >= 1: frozen gates from a "checkpoint"; random weights cost the same.
  const featureFromCheckpoint = regimePlan.featureSource === 'checkpoint' ? createStack(plan, 'glorot-uniform', rngFor(9, 'checkpoint'), false) : undefined;
  const model = buildTrialModel({ plan, regime: regimePlan, init: 'glorot-uniform', gate: { beta: 4, eps: 0.1 }, seed: 0, featureFromCheckpoint });
  const opt = createOptimizer({ name: 'adam', lr: 1e-3 }, model.trainable);
  const rng = mulberry32(1);
  const size = inputShape[0] * inputShape[1] * inputShape[2];
  const x = tf.tensor(Float32Array.from({ length: args.batch * size }, () => rng.next()), inputBatchShape(plan, args.batch));
  const target = makeTarget(Int32Array.from({ length: args.batch }, () => Math.floor(rng.next() * 10)), undefined, 10);
  let acc = tf.scalar(0);
  const run = async (n: number): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const next = trainStep(model, opt, 'cross-entropy', x, target, acc);
      acc.dispose();
      acc = next;
    }
    await acc.data();
    return performance.now() - t0;
  };
  try {
    await run(1);
    const one = await run(1);
    const steps = Math.max(1, Math.min(args.steps, Math.floor((sliceMs - 2 * one) / Math.max(one, 1e-3))));
    const ms = steps === 1 ? one : (await run(steps)) / steps;
    return { ms, steps };
  } finally {
    tf.dispose([acc, x, target]);
    opt.dispose();
    model.dispose();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const start = performance.now();
  const deadline = start + args.budgetS * 1000;
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, tfjs: tf.version_core };

  const probe = await probeWebgpu();
  const adapters = probe.ok ? probe.adapters : [];
  const hardware = adapters.filter((a) => !a.software);
  const installed = installedBackends();
  const gpuBackends: GpuBackend[] = [];
  if (hardware.length > 0 || (args.allowSoftware && adapters.length > 0)) gpuBackends.push('webgpu');
  if (installed.tensorflowGpu && installed.cudaDevices > 0) gpuBackends.push('tensorflow-gpu');
  if (gpuBackends.length === 0) {
    const seen = adapters.length ? `only software adapters (${adapters.map(describeAdapter).join('; ')})` : probe.ok ? 'no WebGPU adapter' : probe.reason;
    const reason = `no hardware GPU found: ${seen}; tensorflow-gpu ${installed.tensorflowGpu ? `installed, ${installed.cudaDevices} CUDA device(s)` : 'not installed'}`;
    log(`npf bench:device: ${reason}. Nothing to time (--allow-software times a software adapter, for information).`);
    console.log(JSON.stringify({ machine, gpu: null, reason }));
    return;
  }

  const cases: { backend: CaseBackend; arch: Arch; regime: Regime }[] = [];
  for (const backend of [...gpuBackends, 'wasm'] as const) {
    for (const arch of args.archs) for (const regime of args.regimes) cases.push({ backend, arch, regime });
  }
  // Which filter gradient is faster on this GPU: one GCONV regime with the native kernel.
  if (gpuBackends.includes('webgpu') && args.archs.includes('gconv')) cases.push({ backend: 'webgpu+native-filter', arch: 'gconv', regime: args.regimes[0] });
  // wasm GCONV (seconds per step) last, so a tight budget cuts only the slowest cases.
  cases.sort((a, b) => Number(a.backend === 'wasm' && a.arch === 'gconv') - Number(b.backend === 'wasm' && b.arch === 'gconv'));

  let adapter: AdapterInfo | undefined;
  const results: CaseResult[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const left = deadline - performance.now();
    const slice = left / (cases.length - i);
    if (left < 1000) {
      results.push({ ...c, msPerStep: null, steps: 0, skipped: `out of the ${args.budgetS} s budget` });
      continue;
    }
    const nativeFilter = c.backend === 'webgpu+native-filter';
    const backend = c.backend === 'webgpu+native-filter' ? 'webgpu' : c.backend;
    const choice = await initBackend(backend, c.arch !== 'fc');
    if (choice.backend === 'webgpu') adapter = choice.adapter;
    const before = nativeFilter ? setNativeConvGrads('webgpu', { input: true, filter: true }) : undefined;
    let timed: { ms: number; steps: number };
    try {
      timed = await timeCase(c.arch, c.regime, args, slice);
    } finally {
      if (before) setNativeConvGrads('webgpu', before);
    }
    const { ms, steps } = timed;
    results.push({ ...c, msPerStep: Math.round(ms * 100) / 100, steps });
    log(`${c.backend.padEnd(14)} ${c.arch.padEnd(5)} ${c.regime.padEnd(8)} ${ms.toFixed(2).padStart(10)} ms/step (${steps} steps)`);
  }
  console.log(
    JSON.stringify({
      machine,
      adapter: adapter ? { vendor: adapter.vendor, architecture: adapter.architecture, description: adapter.description, software: adapter.software } : undefined,
      nvidia: nvidiaModels(),
      batch: args.batch,
      gconvInput: [args.image, args.image, 3],
      optimizer: 'adam',
      wallS: Math.round((performance.now() - start) / 100) / 10,
      cases: results,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
