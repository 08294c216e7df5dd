/**
 * Every op of science/models/ops.ts on the webgpu backend against the wasm backend: the value
 * and the gradient of a random linear read-out, from the same inputs. The wasm gradients are
 * themselves checked against finite differences (test/models/ops.test.ts); on webgpu the conv
 * gradients come from the backend's own Conv2DBackpropInput/Filter kernels, so this also checks
 * those against npf-sweep's shifted-matMul gradient. All reads are asynchronous.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../science/backend/init-backend.js';
import {
  conv2dSame,
  dense,
  flatten,
  gateConst,
  gateMul,
  globalAveragePool,
  meanSquaredError,
  relu,
  setNativeConvGrads,
  softGateOp,
  softmaxCrossEntropy,
} from '../../science/models/ops.js';
import { mulberry32 } from '../../science/models/prng.js';
import { requireWebgpuAdapter } from './webgpu-available.js';

beforeAll(async () => {
  await requireWebgpuAdapter();
});

/** `constant`: passed to the op but not differentiated (hard gates, one-hot targets). */
type Input = { data: Float32Array; shape: number[]; constant?: boolean };
type Op = (...xs: tf.Tensor[]) => tf.Tensor;

const rng = mulberry32(17);
function rand(shape: number[], lo = -1, hi = 1): Input {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next()), shape };
}

/** Value and gradients of <r, f(inputs)> on `backend`, read back asynchronously. */
async function valueAndGrads(backend: 'webgpu' | 'wasm', f: Op, inputs: Input[], readout: Float32Array): Promise<Float32Array[]> {
  await initBackend(backend, true);
  expect(tf.getBackend()).toBe(backend);
  const xs = inputs.map((i) => tf.tensor(i.data, i.shape));
  const results = tf.tidy(() => {
    const r = tf.tensor(readout, f(...xs).shape);
    // The read-out carries its own gradient: tfjs-core registers none for sum/mul.
    const read = tf.customGrad(((y: tf.Tensor) => ({ value: tf.sum(tf.mul(y, r)), gradFunc: (dy: tf.Tensor) => [tf.mul(dy, r)] })) as unknown as Parameters<
      typeof tf.customGrad
    >[0]);
    const free = inputs.map((i, k) => (i.constant ? -1 : k)).filter((k) => k >= 0);
    const objective = (...zs: tf.Tensor[]): tf.Scalar => read(f(...xs.map((x, k) => (free.includes(k) ? zs[free.indexOf(k)] : x)))) as tf.Scalar;
    const vars = free.map((k) => xs[k]);
    return [objective(...vars), ...tf.grads(objective)(vars)];
  });
  const read = await Promise.all(results.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([...xs, ...results]);
  return read;
}

/** Largest difference between the two backends, relative to the largest magnitude of each array. */
async function backendGap(f: Op, inputs: Input[]): Promise<number> {
  const outSize = await (async () => {
    await initBackend('wasm', true);
    const xs = inputs.map((i) => tf.tensor(i.data, i.shape));
    const size = tf.tidy(() => f(...xs).size);
    tf.dispose(xs);
    return size;
  })();
  const readout = rand([outSize]).data;
  const gpu = await valueAndGrads('webgpu', f, inputs, readout);
  const cpu = await valueAndGrads('wasm', f, inputs, readout);
  let worst = 0;
  gpu.forEach((g, k) => {
    const c = cpu[k];
    expect(g.length).toBe(c.length);
    const scale = Math.max(1e-3, ...Array.from(c, Math.abs));
    for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(g[i] - c[i]) / scale);
  });
  return worst;
}

const TOL = 1e-4;

describe('webgpu - every op and its gradient agree with the wasm backend', () => {
  it('webgpu - dense with and without bias, and the input-layer variants', async () => {
    const x = rand([3, 5]);
    const w = rand([5, 4]);
    const b = rand([4]);
    expect(await backendGap((a, k, c) => dense(a, k, c), [x, w, b])).toBeLessThan(TOL);
    expect(await backendGap((a, k) => dense(a, k, undefined), [x, w])).toBeLessThan(TOL);
    expect(await backendGap((a, k, c) => dense(a, k, c, true), [x, w, b])).toBeLessThan(TOL);
    expect(await backendGap((a, k) => dense(a, k, undefined, true), [x, w])).toBeLessThan(TOL);
  });

  it('webgpu - conv2d 3x3 same with and without bias (native input kernel, shifted-matMul filter gradient; and the other choices)', async () => {
    const x = rand([2, 5, 4, 3]);
    const w = rand([3, 3, 3, 4]);
    const b = rand([4]);
    expect(await backendGap((a, k, c) => conv2dSame(a, k, c), [x, w, b])).toBeLessThan(TOL);
    expect(await backendGap((a, k) => conv2dSame(a, k, undefined), [x, w])).toBeLessThan(TOL);
    // The other kernel choices for webgpu (all native; all composed) are right too.
    for (const use of [
      { input: true, filter: true },
      { input: false, filter: false },
    ]) {
      const before = setNativeConvGrads('webgpu', use);
      try {
        expect(await backendGap((a, k, c) => conv2dSame(a, k, c), [x, w, b])).toBeLessThan(TOL);
      } finally {
        setNativeConvGrads('webgpu', before);
      }
    }
  });

  it('webgpu - relu, soft gate, constant gates, trainable gates', async () => {
    const q = rand([4, 6]);
    const g = rand([4, 6], 0, 1);
    expect(await backendGap((a) => relu(a), [q])).toBeLessThan(TOL);
    expect(await backendGap((a) => softGateOp(a, 4, 0.1), [q])).toBeLessThan(TOL);
    const hard: Input = { data: Float32Array.from(g.data, (v) => (v > 0.5 ? 1 : 0)), shape: g.shape, constant: true };
    expect(await backendGap((a, c) => gateConst(a, c), [q, hard])).toBeLessThan(TOL);
    expect(await backendGap((a, c) => gateMul(a, c), [q, g])).toBeLessThan(TOL);
  });

  it('webgpu - flatten and global average pooling', async () => {
    const h = rand([2, 3, 4, 5]);
    expect(await backendGap((a) => flatten(a), [h])).toBeLessThan(TOL);
    expect(await backendGap((a) => globalAveragePool(a), [h])).toBeLessThan(TOL);
  });

  it('webgpu - softmax cross-entropy and squared loss', async () => {
    const z = rand([4, 3], -3, 3);
    const onehot: Input = { data: Float32Array.from([1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0]), shape: [4, 3], constant: true };
    expect(await backendGap((a, o) => softmaxCrossEntropy(a as tf.Tensor2D, o as tf.Tensor2D), [z, onehot])).toBeLessThan(TOL);
    const out = rand([5, 1]);
    const target = { ...rand([5, 1]), constant: true };
    expect(await backendGap((a, t) => meanSquaredError(a as tf.Tensor2D, t as tf.Tensor2D), [out, target])).toBeLessThan(TOL);
  });

  it('webgpu - a wrong gradient would be caught: the check separates two different ops', async () => {
    const x = rand([3, 5]);
    const w = rand([5, 4]);
    let onGpu = false;
    const twoFaced: Op = (a, k) => {
      if (tf.getBackend() !== 'webgpu') return relu(dense(a, k, undefined));
      onGpu = true;
      return softGateOp(dense(a, k, undefined), 4, 0.1);
    };
    expect(await backendGap(twoFaced, [x, w])).toBeGreaterThan(1e-2);
    expect(onGpu).toBe(true);
  });
});
