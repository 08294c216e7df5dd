/**
 * Fused-training benchmark (not a test): per-trial step time of the unfused path (one trial, K = 1,
 * science/train's trainStep) against K trials fused into one stack (science/fused), measured side
 * by side in one run, plus the projected wall time of the Table 2 MNIST sweeps.
 *
 *   npm run bench:fusion [-- --backends wasm,wasm-blas,webgpu --regimes relu,dnpfl --k 2,4,8,16 --rounds 5 --steps 60
 *                           --webgpu-rounds 3 --webgpu-steps 20]
 *
 * --gate-cache off: fused FRNPF / FLNPF stacks recompute their frozen gates every step instead of
 * reading them from the gate cache (science/fused/gate-cache.ts), which they do by default on
 * wasm and cpu, as the worker does.
 *
 * Defaults as shown. --webgpu-rounds / --webgpu-steps bound the webgpu cases, which on a software
 * device (lavapipe) run 10-20x slower than on wasm; a backend that cannot start here (no WebGPU
 * adapter, no OpenBLAS for wasm-blas) is reported as not measured and its speedup is null. The
 * sweep projection is made for wasm and for wasm-blas (wasm with OpenBLAS products), each from
 * its own measured costs. --backends wasm-xnnpack,wasm measures wasm before and after its GEMM
 * (bench-backend.ts) in one run, projection included.
 *
 * FC 784-128x5-10, batch 32, Adam, random MNIST-shaped data. A step here is what the training
 * loops do per step: assemble each member's batch from its own shuffled order, upload it, forward,
 * backward, update. On a shared machine the load moves between measurements, so unfused and fused
 * cases are measured alternately, `rounds` times each, and medians are compared; process CPU time
 * per step is reported beside wall time.
 *
 * The last line is one JSON object: wasm_speedup and webgpu_speedup (unfused / fused per-trial
 * step time at the headline K, geometric mean over the regimes; null when that backend is not
 * in this build), the same from CPU time (wasm_cpu_speedup...), every case's figures, and the
 * projected sweep hours (wall and CPU time; stacks of up to 8 and of up to 16).
 */
import * as tf from '@tensorflow/tfjs-core';
import { cpus, loadavg } from 'node:os';
import { initBenchBackend, onWasmHeap } from './bench-backend.js';
import { planNetwork, type NetworkPlan } from '../science/models/architecture.js';
import { inputBatchShape } from '../science/models/network.js';
import { mulberry32, permutation, rngFor } from '../science/models/prng.js';
import { makeBatch, type BatchSource } from '../science/train/batches.js';
import { lossValue, makeTarget } from '../science/train/loss.js';
import { createOptimizer } from '../science/train/optimizer.js';
import { planRegime } from '../science/regimes.js';
import { trainStep } from '../science/train/train-step.js';
import { buildTrialModel } from '../science/train/trial-model.js';
import { makeStackedBatch } from '../science/fused/stacked-batch.js';
import { buildStackedModel } from '../science/fused/stacked-model.js';
import { createStackedOptimizer } from '../science/fused/stacked-optimizer.js';
import { fusedTrainStep, stackedLoss } from '../science/fused/fused-step.js';
import { computeGateBits, gateLayout, gateTensors } from '../science/fused/gate-cache.js';
import type { OptimizerName, Regime } from '../science/types.js';
import { MNIST_STEPS_PER_EPOCH, project, WORKERS, type Costs, type Projection } from './fusion-projection.js';
import { floorHours, timeProductFloor, type ProductFloor } from './product-floor.js';

interface Args {
  backends: string[];
  regimes: Regime[];
  optimizers: OptimizerName[];
  ks: number[];
  rounds: number;
  steps: number;
  /** Rounds and steps of the webgpu cases. */
  webgpuRounds: number;
  webgpuSteps: number;
  batch: number;
  /** Regimes and optimisers measured for the sweep projection (cost shapes: relu, hard gates, soft gates). */
  project: boolean;
  /** Fused frozen-gate stacks read their gates from the gate cache, as the worker's do on wasm and cpu. */
  gateCache: boolean;
}

/** Headline K per backend (the issue's protocol): 8 on wasm (and wasm-blas), 16 on webgpu. */
const HEADLINE_K: Record<string, number> = { wasm: 8, 'wasm-blas': 8, 'wasm-xnnpack': 8, webgpu: 16 };

/** The CPU backends the sweep projection is made for ('wasm-xnnpack': wasm before its GEMM, bench-backend.ts). */
const PROJECTED = ['wasm', 'wasm-blas', 'wasm-xnnpack'];

interface BackendProjection {
  wall: Projection;
  cpu: Projection;
  k16: { wall: Projection; cpu: Projection };
  floor: ProductFloor & { hours: number };
}

function parseArgs(argv: string[]): Args {
  const args: Args = { backends: ['wasm', 'wasm-blas', 'webgpu'], regimes: ['relu', 'dnpfl'], optimizers: ['adam'], ks: [2, 4, 8, 16], rounds: 5, steps: 60, webgpuRounds: 3, webgpuSteps: 20, batch: 32, project: true, gateCache: true };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--no-projection') {
      args.project = false;
      i -= 1;
      continue;
    }
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--backends') args.backends = value.split(',');
    else if (flag === '--regimes') args.regimes = value.split(',') as Regime[];
    else if (flag === '--k') args.ks = value.split(',').map(Number);
    else if (flag === '--rounds') args.rounds = Number(value);
    else if (flag === '--steps') args.steps = Number(value);
    else if (flag === '--webgpu-rounds') args.webgpuRounds = Number(value);
    else if (flag === '--webgpu-steps') args.webgpuSteps = Number(value);
    else if (flag === '--batch') args.batch = Number(value);
    else if (flag === '--gate-cache') args.gateCache = value !== 'off';
    else throw new Error(`unknown flag ${flag}`);
  }
  return args;
}

const PLAN: NetworkPlan = planNetwork({ kind: 'fc', width: 128, depth: 5 }, [28, 28, 1], 10, true);
const GATE = { beta: 4, eps: 0.1 };
const LR: Record<OptimizerName, number> = { adam: 3e-4, sgd: 1e-2, rmsprop: 1e-3 };

/** MNIST-shaped random examples, enough for a few shuffled "epochs" of batches. */
function randomSource(n: number, seed: number): BatchSource {
  const rng = mulberry32(seed);
  return {
    x: Float32Array.from({ length: n * 784 }, () => rng.next()),
    labels: Int32Array.from({ length: n }, () => Math.floor(rng.next() * 10)),
    n,
  };
}

const TRAIN = randomSource(4096, 1);
/** Set from --gate-cache and the backend in main(): the worker caches frozen gates on wasm and cpu. */
const GATE_CACHE = { on: true };
const TEST = randomSource(1000, 2);

interface Timing {
  /** Median wall ms per step of the whole case (all K members). */
  wallMs: number;
  /** Process CPU ms per step. */
  cpuMs: number;
}

/**
 * Time `steps` steps in blocks of 10 (one device read per block, asynchronous: a GPU backend has no
 * synchronous read in Node, and the read waits for the block's queued GPU work); median wall and
 * mean CPU per step.
 */
async function timeBlocks(step: (i: number) => void, read: () => Promise<unknown>, steps: number): Promise<Timing> {
  const block = 10;
  const walls: number[] = [];
  const c0 = process.cpuUsage();
  let done = 0;
  for (let b = 0; b < Math.max(1, Math.floor(steps / block)); b++) {
    const t0 = performance.now();
    for (let i = 0; i < block; i++) step(done++);
    await read();
    walls.push((performance.now() - t0) / block);
  }
  const c = process.cpuUsage(c0);
  walls.sort((a, b) => a - b);
  return { wallMs: walls[Math.floor(walls.length / 2)], cpuMs: (c.user + c.system) / 1000 / done };
}

/** One trial, today's path: per step makeBatch + upload + trainStep. */
async function timeUnfused(regime: Regime, optimizer: OptimizerName, steps: number, warmup: number, batch: number): Promise<Timing> {
  const model = buildTrialModel({ plan: PLAN, regime: planRegime(regime, regime === 'stage' ? 1 : undefined), init: 'glorot-uniform', gate: GATE, seed: 0 });
  const opt = createOptimizer({ name: optimizer, lr: LR[optimizer] }, model.trainable);
  const order = permutation(TRAIN.n, rngFor(0, 'shuffle'));
  const per = Math.floor(TRAIN.n / batch);
  let acc = tf.scalar(0);
  const step = (i: number): void => {
    const data = makeBatch(TRAIN, 784, batch, i % per, order);
    const next = tf.tidy(() => {
      const x = tf.tensor(data.x, inputBatchShape(PLAN, data.size));
      return trainStep(model, opt, 'cross-entropy', x, makeTarget(data.labels, undefined, 10), acc);
    });
    acc.dispose();
    acc = next;
  };
  for (let i = 0; i < warmup; i++) step(i);
  await acc.data();
  const t = await timeBlocks(step, () => acc.data(), steps);
  acc.dispose();
  opt.dispose();
  model.dispose();
  return t;
}

/** K trials fused: per step makeStackedBatch + upload + fusedTrainStep. Figures are for the whole stack. */
async function timeFused(regime: Regime, optimizer: OptimizerName, k: number, steps: number, warmup: number, batch: number): Promise<Timing & { setupMsPerMemberPerThousand?: number }> {
  const members = Array.from({ length: k }, (_, i) => ({ seed: i }));
  const model = buildStackedModel({ plan: PLAN, regime: planRegime(regime, regime === 'stage' ? 1 : undefined), init: 'glorot-uniform', gate: GATE, members });
  // Frozen gates from the cache, as fusedTrainLoop does on wasm and cpu: computed once (timed
  // apart: it is paid once per run, not per step).
  const layout = gateLayout(model.gateWidths);
  let bits: Uint8Array[] | undefined;
  let setupMsPerMemberPerThousand: number | undefined;
  if (GATE_CACHE.on && model.hasFrozenGates) {
    const t0 = performance.now();
    bits = await computeGateBits(model, layout, TRAIN, 784);
    setupMsPerMemberPerThousand = (performance.now() - t0) / k / (TRAIN.n / 1000);
  }
  const opt = createStackedOptimizer(optimizer, members.map((_, i) => LR[optimizer] * (1 + i / 10)), model.trainable);
  const orders = members.map((m) => permutation(TRAIN.n, rngFor(m.seed, 'shuffle')));
  const per = Math.floor(TRAIN.n / batch);
  let acc = tf.zeros([k]);
  const step = (i: number): void => {
    const data = makeStackedBatch(TRAIN, 784, batch, i % per, orders);
    const next = tf.tidy(() => {
      const x = tf.tensor3d(data.x, [k, data.size, 784]);
      const target = tf.reshape(makeTarget(data.labels, undefined, 10), [k, data.size, 10]);
      const start = (i % per) * batch;
      const gates = bits ? gateTensors(layout, bits, data.size, (j, r) => orders[j][start + r]) : undefined;
      return fusedTrainStep(model, opt, 'cross-entropy', x, target, acc, gates);
    });
    acc.dispose();
    acc = next;
  };
  for (let i = 0; i < warmup; i++) step(i);
  await acc.data();
  const t = await timeBlocks(step, () => acc.data(), steps);
  acc.dispose();
  opt.dispose();
  model.dispose();
  return { ...t, setupMsPerMemberPerThousand };
}

/** Test evaluation of one trial per 1000 test examples (forward, loss, accuracy), ms; unfused and per member at K. */
async function timeEvaluation(regime: Regime, k: number): Promise<{ unfusedMs: number; fusedPerMemberMs: number; unfusedCpuMs: number; fusedPerMemberCpuMs: number }> {
  const plan = planRegime(regime, regime === 'stage' ? 1 : undefined);
  const single = buildTrialModel({ plan: PLAN, regime: plan, init: 'glorot-uniform', gate: GATE, seed: 0 });
  const stack = buildStackedModel({ plan: PLAN, regime: plan, init: 'glorot-uniform', gate: GATE, members: Array.from({ length: k }, (_, i) => ({ seed: i })) });
  const data = makeBatch(TEST, 784, 1000, 0);
  const run = async (f: () => tf.Tensor): Promise<{ wall: number; cpu: number }> => {
    const warm = tf.tidy(f);
    await warm.data();
    warm.dispose();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < 3; i++) {
      const t = tf.tidy(f);
      await t.data();
      t.dispose();
    }
    const c = process.cpuUsage(c0);
    return { wall: (performance.now() - t0) / 3, cpu: (c.user + c.system) / 1000 / 3 };
  };
  const unfused = await run(() => {
    const x = tf.tensor2d(data.x, [1000, 784]);
    return lossValue('cross-entropy', single.logits(x), makeTarget(data.labels, undefined, 10));
  });
  const layout = gateLayout(stack.gateWidths);
  const bits = GATE_CACHE.on && stack.hasFrozenGates ? await computeGateBits(stack, layout, TEST, 784) : undefined;
  const fused = await run(() => {
    const x = tf.tensor2d(data.x, [1000, 784]);
    const gates = bits ? gateTensors(layout, bits, 1000, (_, r) => r) : undefined;
    return stackedLoss('cross-entropy', stack.logits(x, gates), makeTarget(data.labels, undefined, 10));
  });
  single.dispose();
  stack.dispose();
  return { unfusedMs: unfused.wall, fusedPerMemberMs: fused.wall / k, unfusedCpuMs: unfused.cpu, fusedPerMemberCpuMs: fused.cpu / k };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function geomean(xs: number[]): number {
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

interface CaseFigures {
  backend: string;
  regime: Regime;
  optimizer: OptimizerName;
  unfused_ms_per_trial_step: number;
  unfused_cpu_ms_per_trial_step: number;
  fused: { k: number; ms_per_trial_step: number; cpu_ms_per_trial_step: number; speedup: number; cpu_speedup: number; gate_cache_setup_ms_per_member_per_1000?: number }[];
}

/** Alternate unfused and every fused K, `rounds` times; medians per trial. */
async function measureCase(backend: string, regime: Regime, optimizer: OptimizerName, ks: number[], rounds: number, steps: number, batch: number): Promise<CaseFigures> {
  const unfused: Timing[] = [];
  const fused = new Map<number, Timing[]>(ks.map((k) => [k, []]));
  const setup = new Map<number, number[]>(ks.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    unfused.push(await timeUnfused(regime, optimizer, steps, 10, batch));
    for (const k of ks) {
      const t = await timeFused(regime, optimizer, k, Math.max(20, Math.round(steps / Math.sqrt(k))), 5, batch);
      (fused.get(k) as Timing[]).push({ wallMs: t.wallMs / k, cpuMs: t.cpuMs / k });
      if (t.setupMsPerMemberPerThousand !== undefined) (setup.get(k) as number[]).push(t.setupMsPerMemberPerThousand);
    }
  }
  const u = median(unfused.map((t) => t.wallMs));
  const uc = median(unfused.map((t) => t.cpuMs));
  return {
    backend,
    regime,
    optimizer,
    unfused_ms_per_trial_step: u,
    unfused_cpu_ms_per_trial_step: uc,
    fused: ks.map((k) => {
      const ts = fused.get(k) as Timing[];
      const f = median(ts.map((t) => t.wallMs));
      const fc = median(ts.map((t) => t.cpuMs));
      const su = setup.get(k) as number[];
      return { k, ms_per_trial_step: f, cpu_ms_per_trial_step: fc, speedup: u / f, cpu_speedup: uc / fc, ...(su.length ? { gate_cache_setup_ms_per_member_per_1000: median(su) } : {}) };
    }),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.log('# npf-sweep fused-training benchmark');
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}; tfjs-core ${tf.version_core}`);
  console.log(
    `FC 784-128x5-10, batch ${args.batch}, random MNIST-shaped data; per round: unfused (K = 1) then fused K = ${args.ks.join(', ')}, ` +
      `steps in blocks of 10 (one read each); medians over rounds; ms per trial-step (fused: stack step / K); ` +
      `fused FRNPF / FLNPF gates from the gate cache on wasm and cpu: ${args.gateCache ? 'on' : 'off (--gate-cache off)'}`,
  );
  const figures: CaseFigures[] = [];
  const speedups: Record<string, number | null> = { wasm: null, 'wasm-blas': null, 'wasm-xnnpack': null, webgpu: null };
  const cpuSpeedups: Record<string, number | null> = { wasm: null, 'wasm-blas': null, 'wasm-xnnpack': null, webgpu: null };
  const notes: string[] = [];
  const projections: Record<string, BackendProjection> = {};
  for (const backend of args.backends) {
    const costs = new Map<string, Costs>();
    // The same from process CPU time: what the run would take if each worker had its core to itself.
    const costsCpu = new Map<string, Costs>();
    let device = '';
    try {
      const choice = await initBenchBackend(backend);
      device = [choice.adapter?.description, choice.note].filter(Boolean).join('; ');
    } catch (err) {
      notes.push(`${backend}: not measured (${(err as Error).message})`);
      console.log(`\n${backend}: not measured (${(err as Error).message})`);
      continue;
    }
    const headline = HEADLINE_K[backend] ?? 8;
    GATE_CACHE.on = args.gateCache && (onWasmHeap(backend) || backend === 'cpu');
    const rounds = backend === 'webgpu' ? args.webgpuRounds : args.rounds;
    const steps = backend === 'webgpu' ? args.webgpuSteps : args.steps;
    const ks = [...new Set([...args.ks, headline])].sort((a, b) => a - b);
    // Untimed: the first trainings in a process pay for JIT tiers and heap growth.
    await timeUnfused('dnpfl', 'adam', 30, 10, args.batch);
    await timeFused('dnpfl', 'adam', headline, 20, 5, args.batch);
    console.log(`\n## ${backend}${device ? ` (${device})` : ''}\n`);
    console.log(`${steps} steps per case (fused: steps / sqrt(K), at least 20), medians over ${rounds} rounds\n`);
    console.log(`| regime | optimizer | unfused ms/step (cpu) | ${ks.map((k) => `K=${k} ms/trial-step (cpu), speedup`).join(' | ')} |`);
    console.log(`|---|---|---|${ks.map(() => '---').join('|')}|`);
    const headlineSpeedups: number[] = [];
    const headlineCpuSpeedups: number[] = [];
    const cases: [Regime, OptimizerName][] = args.regimes.flatMap((r) => args.optimizers.map((o) => [r, o] as [Regime, OptimizerName]));
    const projecting = args.project && PROJECTED.includes(backend);
    if (projecting) {
      for (const shape of ['relu', 'frnpf-ii', 'dnpfl'] as Regime[]) for (const o of ['sgd', 'adam'] as OptimizerName[]) if (!cases.some(([r, oo]) => r === shape && oo === o)) cases.push([shape, o]);
    }
    for (const [regime, optimizer] of cases) {
      const headlineCase = args.regimes.includes(regime) && args.optimizers.includes(optimizer);
      // Projection-only cases: K = 4, 8 and 16 for the t(K) = a + c / K fit and the stack limits projected.
      const caseKs = headlineCase ? ks : [...new Set([4, 8, 16, headline])].sort((a, b) => a - b);
      const f = await measureCase(backend, regime, optimizer, caseKs, headlineCase ? rounds : Math.max(2, Math.ceil(rounds / 2)), steps, args.batch);
      figures.push(f);
      const cells = ks.map((k) => {
        const x = f.fused.find((c) => c.k === k);
        return x ? `${x.ms_per_trial_step.toFixed(2)} (${x.cpu_ms_per_trial_step.toFixed(2)}), ${x.speedup.toFixed(2)}x` : '-';
      });
      console.log(`| ${regime} | ${optimizer} | ${f.unfused_ms_per_trial_step.toFixed(2)} (${f.unfused_cpu_ms_per_trial_step.toFixed(2)}) | ${cells.join(' | ')} |`);
      const h = f.fused.find((c) => c.k === headline);
      if (headlineCase && h) {
        headlineSpeedups.push(h.speedup);
        headlineCpuSpeedups.push(h.cpu_speedup);
      }
      if (projecting) {
        const fused: Costs['fused'] = new Map();
        const fusedCpu: Costs['fused'] = new Map();
        let evalU = 0;
        let evalUCpu = 0;
        for (const c of f.fused) {
          const ev = await timeEvaluation(regime, c.k);
          evalU = ev.unfusedMs;
          evalUCpu = ev.unfusedCpuMs;
          const setupMs = c.gate_cache_setup_ms_per_member_per_1000;
          fused.set(c.k, { step: c.ms_per_trial_step, eval: ev.fusedPerMemberMs, setup: setupMs });
          fusedCpu.set(c.k, { step: c.cpu_ms_per_trial_step, eval: ev.fusedPerMemberCpuMs, setup: setupMs });
        }
        costs.set(`${regime}/${optimizer}`, { stepU: f.unfused_ms_per_trial_step, evalU, fused });
        costsCpu.set(`${regime}/${optimizer}`, { stepU: f.unfused_cpu_ms_per_trial_step, evalU: evalUCpu, fused: fusedCpu });
      }
    }
    if (backend in speedups) {
      speedups[backend] = headlineSpeedups.length ? geomean(headlineSpeedups) : null;
      cpuSpeedups[backend] = headlineCpuSpeedups.length ? geomean(headlineCpuSpeedups) : null;
    }
    console.log(
      `\n${backend}: speedup at K = ${headline} (geometric mean over ${args.regimes.join(', ')}, ${args.optimizers.join(', ')}): ` +
        `${speedups[backend]?.toFixed(2) ?? 'n/a'}x wall, ${cpuSpeedups[backend]?.toFixed(2) ?? 'n/a'}x CPU time`,
    );
    if (projecting) {
      const projection = project(costs, headline);
      const projectionCpu = project(costsCpu, headline);
      const projection16 = { wall: project(costs, 16), cpu: project(costsCpu, 16) };
      console.log(
        `\n${backend}: projected wall time of fc-mnist-sgd (75 trials x 300 epochs) + fc-mnist-adam (25 x 100) on this machine, ${WORKERS} workers, ` +
          `from the per-trial-epoch costs above (${MNIST_STEPS_PER_EPOCH} steps + 10,000 test images): unfused ${projection.unfused_hours.toFixed(1)} h, fused (K <= ${headline}) ${projection.fused_hours.toFixed(1)} h; ` +
          `from CPU time (each worker with a core to itself): unfused ${projectionCpu.unfused_hours.toFixed(1)} h, fused ${projectionCpu.fused_hours.toFixed(1)} h. ` +
          `With stacks of up to 16 (--fuse 16): fused ${projection16.wall.fused_hours.toFixed(1)} h (CPU time: ${projection16.cpu.fused_hours.toFixed(1)} h)`,
      );
      // What the products alone would take: the floor of any step on this backend that keeps the arithmetic.
      const p = await timeProductFloor(headline, args.batch);
      const productFloor = { ...p, hours: floorHours(p, headline) };
      projections[backend] = { wall: projection, cpu: projectionCpu, k16: projection16, floor: productFloor };
      console.log(
        `Arithmetic floor (the 2-D products of each step alone, stacked kernel, K = ${headline}): ${p.relu.toFixed(2)} ms per ReLU-shaped member-step ` +
          `(${p.gflopsPerS.toFixed(1)} GFLOP/s), ${p.dnpfl.toFixed(2)} ms per DNPFL member-step; the same sweeps would take ${productFloor.hours.toFixed(1)} h ` +
          `if a step were nothing but its products`,
      );
    }
  }
  if (!args.backends.includes('webgpu')) notes.push('webgpu: not requested (--backends)');
  const round = (x: number | null): number | null => (x === null ? null : Number(x.toFixed(3)));
  // The fastest projected way to run the sweeps here (fused, stacks of up to the headline K).
  const best = Object.entries(projections).sort(([, a], [, b]) => a.wall.fused_hours - b.wall.fused_hours)[0];
  if (best) console.log(`\nProjected Table 2 MNIST rows on this machine, fastest backend: ${best[0]}, fused ${best[1].wall.fused_hours.toFixed(1)} h (unfused on it: ${best[1].wall.unfused_hours.toFixed(1)} h)`);
  const blas = projections['wasm-blas'];
  console.log(
    JSON.stringify({
      wasm_speedup: round(speedups.wasm),
      webgpu_speedup: round(speedups.webgpu),
      wasm_blas_speedup: round(speedups['wasm-blas']),
      wasm_xnnpack_speedup: round(speedups['wasm-xnnpack']),
      wasm_cpu_speedup: round(cpuSpeedups.wasm),
      webgpu_cpu_speedup: round(cpuSpeedups.webgpu),
      wasm_blas_cpu_speedup: round(cpuSpeedups['wasm-blas']),
      headline_k: HEADLINE_K,
      load_average: loadavg(),
      cases: figures,
      projection: projections.wasm?.wall,
      projection_cpu: projections.wasm?.cpu,
      projection_k16: projections.wasm?.k16,
      product_floor: projections.wasm?.floor,
      projection_wasm_blas: blas?.wall,
      projection_wasm_blas_cpu: blas?.cpu,
      projection_wasm_blas_k16: blas?.k16,
      product_floor_wasm_blas: blas?.floor,
      projection_wasm_xnnpack: projections['wasm-xnnpack']?.wall,
      projected_best: best ? { backend: best[0], fused_hours: best[1].wall.fused_hours, unfused_hours: best[1].wall.unfused_hours } : null,
      notes,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
