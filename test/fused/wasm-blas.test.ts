import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../science/backend/init-backend.js';
import { blasPresence } from '../../science/backend/blas.js';
import { chooseBackend } from '../../science/backend/backend-choice.js';
import { stackedMatMul } from '../../science/fused/stacked-matmul.js';
import { runTrial } from '../../science/run-trial.js';
import { runFusedTrials, type FusedOutcome } from '../../science/fused/run-fused-trials.js';
import type { TrialResult } from '../../science/types.js';
import type { Dataset, Split } from '../../science/datasets/dataset.js';
import { mulberry32 } from '../../science/models/prng.js';
import { tinyTrialSpec } from '../train/synthetic-data.js';

// CI installs OpenBLAS (.ci/run); elsewhere these tests say why they cannot run rather than pass.
const presence = blasPresence();
const withBlas = presence.ok ? it : it.skip;
if (!presence.ok) console.warn(`wasm-blas tests skipped: ${presence.reason}`);

function random(shape: number[], seed: number): tf.Tensor {
  const rng = mulberry32(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() - 0.5), shape);
}

/** The product in float64, from the operands' float32 values. */
function exact(a: Float32Array, b: Float32Array, m: number, k: number, n: number, ta: boolean, tb: boolean): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ta ? p * m + i : i * k + p] * b[tb ? j * k + p : p * n + j];
      out[i * n + j] = s;
    }
  }
  return out;
}

function results(outcomes: FusedOutcome[]): TrialResult[] {
  return outcomes.map((o, i) => {
    if (!o.ok) throw new Error(`member ${i} failed: ${String(o.error)}`);
    return o.result;
  });
}

function comparable(r: TrialResult): unknown {
  return { ...r, wallMs: 0, epochs: r.epochs.map((e) => ({ ...e, examplesPerSec: 0, durationMs: 0 })), checkpoints: r.checkpoints.map((c) => ({ ...c, path: '' })) };
}

describe('wasm-blas - choice', () => {
  it('wasm-blas - auto prefers it over wasm when OpenBLAS is found; by name it is refused with the reason when not', () => {
    const none = { tensorflow: false, tensorflowGpu: false, cudaDevices: 0 };
    expect(chooseBackend('auto', false, { ...none, blas: { ok: true, library: 'libopenblas.so.0' } })).toEqual({ ok: true, choice: { backend: 'wasm-blas' } });
    expect(chooseBackend('auto', false, { ...none, blas: { ok: false, reason: 'x' } })).toEqual({ ok: true, choice: { backend: 'wasm' } });
    expect(chooseBackend('auto', false, { ...none, tensorflow: true, blas: { ok: true, library: 'l' } })).toEqual({ ok: true, choice: { backend: 'tensorflow' } });
    const refused = chooseBackend('wasm-blas', false, { ...none, blas: { ok: false, reason: 'libopenblas.so.0 was not found' } });
    expect(refused).toEqual({ ok: false, reason: "backend 'wasm-blas' needs OpenBLAS and the npm package koffi: libopenblas.so.0 was not found" });
  });

  it('wasm-blas - presence: koffi missing, a library path that does not exist, a soname found or not', () => {
    expect(blasPresence({}, () => true, () => false)).toMatchObject({ ok: false, reason: expect.stringContaining("'koffi' is not installed") });
    expect(blasPresence({ NPF_BLAS_LIBRARY: '/opt/x/libopenblas.so' }, () => false, () => true)).toEqual({ ok: false, reason: 'NPF_BLAS_LIBRARY names /opt/x/libopenblas.so, which does not exist' });
    expect(blasPresence({}, (p) => p === '/usr/lib64/libopenblas.so.0', () => true)).toEqual({ ok: true, library: 'libopenblas.so.0' });
    expect(blasPresence({}, () => false, () => true)).toMatchObject({ ok: false, reason: expect.stringContaining('apt-get install libopenblas0') });
  });
});

describe('wasm-blas - products', () => {
  withBlas('wasm-blas - matMul with every transpose combination and batch broadcasting is the exact product to float32 rounding', async () => {
    const choice = await initBackend('wasm-blas', false);
    expect(choice.backend).toBe('wasm-blas');
    expect(choice.note).toMatch(/products on .*libopenblas/);
    const cases: [number[], number[], boolean, boolean][] = [
      [[7, 13], [13, 5], false, false],
      [[13, 7], [13, 5], true, false],
      [[7, 13], [5, 13], false, true],
      [[13, 7], [5, 13], true, true],
      [[3, 7, 13], [13, 5], false, false],
      [[7, 13], [3, 13, 5], false, false],
      [[2, 3, 4, 6], [2, 3, 6, 2], false, false],
      [[32, 784], [784, 128], false, false],
    ];
    for (const [i, [as, bs, ta, tb]] of cases.entries()) {
      const a = random(as, 1 + i);
      const b = random(bs, 50 + i);
      const out = tf.matMul(a, b, ta, tb);
      const [m, k] = ta ? [as.at(-1)!, as.at(-2)!] : [as.at(-2)!, as.at(-1)!];
      const n = tb ? bs.at(-2)! : bs.at(-1)!;
      const batchA = as.slice(0, -2).reduce((x, y) => x * y, 1);
      const batchB = bs.slice(0, -2).reduce((x, y) => x * y, 1);
      const batch = Math.max(batchA, batchB);
      const [ad, bd, got] = [a.dataSync() as Float32Array, b.dataSync() as Float32Array, out.dataSync() as Float32Array];
      for (let t = 0; t < batch; t++) {
        const want = exact(ad.subarray((batchA === 1 ? 0 : t) * m * k), bd.subarray((batchB === 1 ? 0 : t) * k * n), m, k, n, ta, tb);
        for (let j = 0; j < want.length; j++) expect(Math.abs(got[t * m * n + j] - want[j]), `case ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.sqrt(k)));
      }
      tf.dispose([a, b, out]);
    }
  });

  withBlas('wasm-blas - products really run on BLAS (they differ from XNNPACK in the last bits somewhere), and wasm again turns them off', async () => {
    const a = random([32, 784], 7);
    const b = random([784, 128], 8);
    await initBackend('wasm-blas', false);
    const blas = tf.matMul(a, b).dataSync();
    await initBackend('wasm', false);
    const wasm = tf.matMul(a, b).dataSync();
    await initBackend('wasm', false);
    expect(Array.from(tf.matMul(a, b).dataSync())).toEqual(Array.from(wasm));
    expect(Array.from(blas)).not.toEqual(Array.from(wasm));
    tf.dispose([a, b]);
  });

  withBlas('wasm-blas - stacked members are the same sgemm calls as the 2-D product, bit for bit; no memory is left behind', async () => {
    await initBackend('wasm-blas', false);
    const k = 3;
    for (const [as, bs] of [
      [[k, 5, 7], [k, 7, 4]],
      [[5, 7], [k, 7, 4]],
      [[k, 128, 784], [k, 784, 32]],
    ] as [number[], number[]][]) {
      const a = random(as, 3);
      const b = random(bs, 4);
      const before = tf.memory().numBytes;
      const out = stackedMatMul(a, b);
      const rows = out.shape[1] * out.shape[2];
      const got = out.dataSync();
      for (let m = 0; m < k; m++) {
        const want = tf.tidy(() => {
          const ak = a.rank === 3 ? tf.squeeze(tf.slice(a, [m], [1]), [0]) : a;
          return tf.matMul(ak as tf.Tensor2D, tf.squeeze(tf.slice(b, [m], [1]), [0]) as tf.Tensor2D).dataSync();
        });
        expect(Array.from(got.subarray(m * rows, (m + 1) * rows))).toEqual(Array.from(want));
      }
      tf.dispose(out);
      expect(tf.memory().numBytes).toBe(before);
      tf.dispose([a, b]);
    }
  });
});

describe('wasm-blas - training', () => {
  withBlas("wasm-blas - at the paper's size, fused members equal their unfused runs bit for bit, in every regime kind; the same run twice is identical", async () => {
    const rng = mulberry32(5);
    const split = (n: number): Split => ({ x: Float32Array.from({ length: n * 784 }, () => rng.next()), labels: Int32Array.from({ length: n }, () => Math.floor(rng.next() * 10)), n });
    const mnistShaped: Dataset = { name: 'mnist', inputShape: [28, 28, 1], numClasses: 10, classNames: [...'0123456789'], train: split(96), test: split(40) };
    const deps = { loadDataset: async () => mnistShaped, readEvery: 2 };
    for (const regime of ['relu', 'dnpfl', 'frnpf-ii'] as const) {
      const specs = [1, 2].map((seed) =>
        tinyTrialSpec({ regime, seed, backend: 'wasm-blas', arch: { kind: 'fc', width: 128, depth: 5 }, batchSize: 32, epochs: 2, optimizer: { name: 'adam', lr: 3e-4 * seed } }, 12),
      );
      const fused = results(await runFusedTrials(specs.map((s) => ({ spec: s })), deps));
      const alone: TrialResult[] = [];
      for (const s of specs) alone.push(await runTrial(s, {}, deps));
      expect(fused.map(comparable), regime).toEqual(alone.map(comparable));
      expect(fused[0].backend).toBe('wasm-blas');
      const again = await runTrial(specs[0], {}, deps);
      expect(comparable(again)).toEqual(comparable(alone[0]));
    }
  });
});
