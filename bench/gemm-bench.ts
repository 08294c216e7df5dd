/**
 * WebAssembly products benchmark (not a test): the hand-assembled GEMM (science/wasm/gemm-module.ts)
 * against the wasm backend's own XNNPACK product, on the shapes of an FC 784-128x5-10 step
 * (batch 32) and of a test pass (1000 images), both through tf.matMul, alternating in one run.
 *
 *   npm run bench:gemm [-- --rounds 7 --reps 40 --same-b]
 *
 * Per shape and round: `reps` products on the GEMM, then `reps` on XNNPACK (NPF_WASM_MATMUL=xnnpack
 * for that half); medians over rounds. Each product gets its own copy of the right operand, as in
 * training, where every step's kernels and gradients are new tensors: XNNPACK caches its packed
 * operator by tensor id, so products against one and the same tensor would hide its packing
 * (--same-b measures that case). The last line is one JSON object with every shape's figures.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cpus, loadavg } from 'node:os';
import { initBackend } from '../science/backend/init-backend.js';
import { setWasmProducts } from '../science/backend/wasm-products.js';

/** [m, n, p]: a [m, n] times b [n, p], with the role each plays in a step. */
const SHAPES: [number, number, number, string][] = [
  [32, 784, 128, 'forward, first layer: x W'],
  [32, 128, 128, 'forward, hidden layer: h W'],
  [32, 128, 10, 'forward, head'],
  [784, 32, 128, 'weight gradient, first layer: x^T dq'],
  [128, 32, 128, 'weight gradient, hidden layer: h^T dq'],
  [32, 128, 128, 'input gradient, hidden layer: dq W^T'],
  [32, 10, 128, 'input gradient, head: dq W^T'],
  [1000, 784, 128, 'test pass, first layer (1000 images)'],
  [1000, 128, 128, 'test pass, hidden layer'],
];

function parseArgs(argv: string[]): { rounds: number; reps: number; sameB: boolean } {
  const args = { rounds: 7, reps: 40, sameB: false };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--same-b') {
      args.sameB = true;
      i -= 1;
      continue;
    }
    const [flag, value] = [argv[i], Number(argv[i + 1])];
    if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} needs a positive integer`);
    if (flag === '--rounds') args.rounds = value;
    else if (flag === '--reps') args.reps = value;
    else throw new Error(`unknown flag ${flag}`);
  }
  return args;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Microseconds per product: a times each of `bs` once, one read at the end. */
async function time(a: tf.Tensor, bs: tf.Tensor[]): Promise<number> {
  const t0 = performance.now();
  let last: tf.Tensor | undefined;
  for (const b of bs) {
    last?.dispose();
    last = tf.matMul(a, b);
  }
  await last?.data();
  last?.dispose();
  return ((performance.now() - t0) * 1000) / bs.length;
}

async function main(): Promise<void> {
  const { rounds, reps, sameB } = parseArgs(process.argv.slice(2));
  await initBackend('wasm', false);
  console.log('# npf-sweep WebAssembly products benchmark');
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}; tfjs-core ${tf.version_core}`);
  console.log(
    `tf.matMul on the wasm backend; per round ${reps} products on the GEMM then ${reps} on XNNPACK; medians over ${rounds} rounds; ` +
      `right operand: ${sameB ? 'one tensor for all products (XNNPACK packs it once)' : 'a new tensor per product, as in training'}\n`,
  );
  console.log('| product | m x n x p | GEMM us (GFLOP/s) | XNNPACK us (GFLOP/s) | XNNPACK / GEMM |');
  console.log('|---|---|---|---|---|');
  const rows = [];
  for (const [m, n, p, role] of SHAPES) {
    const a = tf.randomUniform([m, n], -1, 1, 'float32', 1);
    const b = tf.randomUniform([n, p], -1, 1, 'float32', 2);
    // Per timing, new copies with their own tensor ids (a clone would share the id, and with it
    // XNNPACK's cached operator; so would copies reused from the last round).
    const timed = async (): Promise<number> => {
      const bs = Array.from({ length: reps }, () => (sameB ? b : tf.mul(b, 1)));
      const us = await time(a, bs);
      if (!sameB) tf.dispose(bs);
      return us;
    };
    const gemm: number[] = [];
    const xnnpack: number[] = [];
    await timed();
    for (let r = 0; r < rounds; r++) {
      setWasmProducts(undefined, {});
      gemm.push(await timed());
      setWasmProducts(undefined, { NPF_WASM_MATMUL: 'xnnpack' });
      xnnpack.push(await timed());
    }
    setWasmProducts(undefined, {});
    tf.dispose([a, b]);
    const [g, x] = [median(gemm), median(xnnpack)];
    const gflops = (us: number): string => ((2 * m * n * p) / us / 1000).toFixed(1);
    console.log(`| ${role} | ${m} x ${n} x ${p} | ${g.toFixed(1)} (${gflops(g)}) | ${x.toFixed(1)} (${gflops(x)}) | ${(x / g).toFixed(2)}x |`);
    rows.push({ role, m, n, p, gemm_us: Number(g.toFixed(2)), xnnpack_us: Number(x.toFixed(2)), ratio: Number((x / g).toFixed(3)) });
  }
  console.log(JSON.stringify({ load_average: loadavg(), rounds, reps, same_b: sameB, shapes: rows }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
