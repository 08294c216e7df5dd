/**
 * Training-step benchmark (not a test): ms/step and examples/s of one FC step (784-128x5-10,
 * batch 32, MNIST-shaped random data) per regime, optimiser and installed backend, beside the
 * PyTorch peer (bench/torch-dgn-step.py) measured in the same run.
 *
 *   npm run bench:train [-- --steps 300 --rounds 3 --backends wasm,cpu --regimes relu,frnpf-ii,dnpfl --optimizers adam,sgd]
 *
 * On a shared machine the load moves between measurements, so ours and the peer are measured
 * alternately, `rounds` times each, and the medians are compared. The cpu backend (pure JS,
 * ~20x slower) gets one short round.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installedBackends } from '../science/backend/init-backend.js';
import { initBenchBackend, WASM_XNNPACK } from './bench-backend.js';
import { planNetwork } from '../science/models/architecture.js';
import { inputBatchShape } from '../science/models/network.js';
import { mulberry32 } from '../science/models/prng.js';
import { makeTarget } from '../science/train/loss.js';
import { createOptimizer } from '../science/train/optimizer.js';
import { planRegime } from '../science/regimes.js';
import { trainStep } from '../science/train/train-step.js';
import { buildTrialModel } from '../science/train/trial-model.js';
import type { OptimizerName, Regime } from '../science/types.js';

interface Args {
  steps: number;
  rounds: number;
  warmup: number;
  /** Backend names, and 'wasm-xnnpack' (bench-backend.ts). */
  backends: string[];
  regimes: Regime[];
  optimizers: OptimizerName[];
  batch: number;
}

function parseArgs(argv: string[]): Args {
  const installed = installedBackends();
  const args: Args = {
    steps: 300,
    rounds: 3,
    warmup: 30,
    backends: [WASM_XNNPACK, 'wasm', ...(installed.blas?.ok ? (['wasm-blas'] as const) : []), 'cpu', ...(installed.tensorflow ? (['tensorflow'] as const) : []), ...(installed.tensorflowGpu ? (['tensorflow-gpu'] as const) : [])],
    regimes: ['relu', 'frnpf-ii', 'dnpfl'],
    optimizers: ['adam', 'sgd'],
    batch: 32,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--steps') args.steps = Number(value);
    else if (flag === '--rounds') args.rounds = Number(value);
    else if (flag === '--warmup') args.warmup = Number(value);
    else if (flag === '--batch') args.batch = Number(value);
    else if (flag === '--backends') args.backends = value.split(',');
    else if (flag === '--regimes') args.regimes = value.split(',') as Regime[];
    else if (flag === '--optimizers') args.optimizers = value.split(',') as OptimizerName[];
    else throw new Error(`unknown flag ${flag}`);
  }
  return args;
}

/** Median ms per step of `steps` steps after `warmup`, timed in blocks of 10 steps. */
async function timeSteps(regime: Regime, optimizer: OptimizerName, backendSteps: number, warmup: number, batch: number): Promise<number> {
  const plan = planNetwork({ kind: 'fc', width: 128, depth: 5 }, [28, 28, 1], 10, true);
  const model = buildTrialModel({ plan, regime: planRegime(regime), init: 'glorot-uniform', gate: { beta: 4, eps: 0.1 }, seed: 0 });
  const opt = createOptimizer({ name: optimizer, lr: optimizer === 'adam' ? 3e-4 : 1e-2 }, model.trainable);
  const rng = mulberry32(1);
  const xData = Float32Array.from({ length: batch * 784 }, () => rng.next());
  const labels = Int32Array.from({ length: batch }, () => Math.floor(rng.next() * 10));
  const x = tf.tensor(xData, inputBatchShape(plan, batch));
  const target = makeTarget(labels, undefined, 10);
  let acc = tf.scalar(0);
  const step = (): void => {
    const next = trainStep(model, opt, 'cross-entropy', x, target, acc);
    acc.dispose();
    acc = next;
  };
  for (let i = 0; i < warmup; i++) step();
  await acc.data();
  const block = 10;
  const times: number[] = [];
  for (let b = 0; b < Math.max(1, Math.floor(backendSteps / block)); b++) {
    const t0 = performance.now();
    for (let i = 0; i < block; i++) step();
    await acc.data(); // one asynchronous read per block: includes any queued device work
    times.push((performance.now() - t0) / block);
  }
  acc.dispose();
  x.dispose();
  target.dispose();
  opt.dispose();
  model.dispose();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function torchPeer(regime: Regime, optimizer: OptimizerName, steps: number, batch: number): number | string {
  const here = dirname(fileURLToPath(import.meta.url));
  // Run from bench/ (sources) or dist/bench/ (compiled): the script stays in bench/.
  const candidates = [resolve(here, 'torch-dgn-step.py'), resolve(here, '../../bench/torch-dgn-step.py')];
  const script = candidates.find((p) => existsSync(p));
  if (!script) return 'skipped: bench/torch-dgn-step.py not found';
  if (!existsSync('/usr/bin/python3')) return 'skipped: /usr/bin/python3 absent';
  const peerRegime = regime === 'frnpf-ii' ? 'frnpf' : regime;
  const r = spawnSync('/usr/bin/python3', [script, '--regime', peerRegime, '--optimizer', optimizer, '--steps', String(steps), '--batch', String(batch)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    const err = r.stderr ?? '';
    return /No module named .torch/.test(err) ? 'skipped: python3-torch is not installed (apt-get install -y python3-torch)' : `skipped: peer failed: ${err.trim().split('\n').pop()}`;
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return (JSON.parse(line) as { ms_per_step: number }).ms_per_step;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.log(`# npf-sweep training-step benchmark`);
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; node ${process.version}; tfjs-core ${tf.version_core}`);
  console.log(
    `FC 784-128x5-10, batch ${args.batch}, random MNIST-shaped data; per round the median of ${args.steps} steps (blocks of 10) after ${args.warmup} warm-up; ` +
      `median over ${args.rounds} rounds, ours and PyTorch (1 thread) alternating`,
  );
  const rows: string[] = ['| backend | regime | optimizer | ms/step | examples/s | PyTorch ms/step | ratio (ours/PyTorch) |', '|---|---|---|---|---|---|---|'];
  const peer = new Map<string, number | string>();
  for (const backend of args.backends) {
    const choice = await initBenchBackend(backend);
    const slow = choice.backend === 'cpu';
    // Untimed: the first trainings in a process pay for JIT tiers and heap growth.
    await timeSteps('dnpfl', 'adam', slow ? 10 : 200, slow ? 2 : 50, args.batch);
    for (const regime of args.regimes) {
      for (const optimizer of args.optimizers) {
        const key = `${regime}/${optimizer}`;
        const ours: number[] = [];
        const theirs: number[] = [];
        let skipped: string | undefined;
        for (let r = 0; r < (slow ? 1 : args.rounds); r++) {
          ours.push(await timeSteps(regime, optimizer, slow ? Math.min(args.steps, 20) : args.steps, slow ? 3 : args.warmup, args.batch));
          if (!peer.has(key) && skipped === undefined) {
            const p = torchPeer(regime, optimizer, args.steps, args.batch);
            if (typeof p === 'number') theirs.push(p);
            else skipped = p;
          }
        }
        if (!peer.has(key)) peer.set(key, skipped ?? median(theirs));
        const ms = median(ours);
        const p = peer.get(key) as number | string;
        const ratio = typeof p === 'number' ? (ms / p).toFixed(2) : 'n/a';
        const row = `| ${backend} | ${regime} | ${optimizer} | ${ms.toFixed(2)} | ${Math.round((args.batch * 1000) / ms)} | ${typeof p === 'number' ? p.toFixed(2) : p} | ${ratio} |`;
        rows.push(row);
        console.error(row);
      }
    }
  }
  console.log(rows.join('\n'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
