/**
 * Every hand-written gradient of science/models/ops.ts against central finite differences of
 * a random linear read-out of the op's output.
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
  softGateOp,
  softmaxCrossEntropy,
} from '../../science/models/ops.js';
import { mulberry32 } from '../../science/models/prng.js';

beforeAll(async () => {
  // cpu: the only built-in backend with conv gradient kernels; float32 everywhere.
  await initBackend('cpu', true);
});

const rng = mulberry32(7);
function rand(shape: number[], lo = -1, hi = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next()), shape);
}

/** Max relative error of d<r, f(inputs)>/d inputs[i] (analytic vs finite differences) over `check` inputs. */
function gradError(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], check: number[], h = 1e-2): number {
  const outShape = tf.tidy(() => f(...inputs).shape);
  const r = rand(outShape.length ? outShape : []);
  // The read-out carries its own gradient: tfjs-core registers none for sum/mul.
  const readout = tf.customGrad(((y: tf.Tensor) => ({ value: tf.sum(tf.mul(y, r)), gradFunc: (dy: tf.Tensor) => [tf.mul(dy, r)] })) as unknown as Parameters<
    typeof tf.customGrad
  >[0]);
  const objective = (...xs: tf.Tensor[]): tf.Scalar => readout(f(...xs)) as tf.Scalar;
  const analytic = tf.grads(objective)(inputs);
  let worst = 0;
  for (const i of check) {
    const a = analytic[i].dataSync();
    const base = inputs[i].dataSync();
    // A few coordinates per input keep this fast.
    for (const k of [0, Math.floor(base.length / 3), base.length - 1]) {
      const at = (delta: number): number =>
        tf.tidy(() => {
          const moved = Float32Array.from(base);
          moved[k] += delta;
          const xs = inputs.map((x, j) => (j === i ? tf.tensor(moved, x.shape) : x));
          return objective(...xs).dataSync()[0];
        });
      const numeric = (at(h) - at(-h)) / (2 * h);
      worst = Math.max(worst, Math.abs(numeric - a[k]) / Math.max(1e-2, Math.abs(numeric) + Math.abs(a[k])));
    }
  }
  analytic.forEach((t) => t.dispose());
  r.dispose();
  return worst;
}

describe('models - custom gradients agree with finite differences', () => {
  it('models - dense with and without bias (dx, dW, db); input variant gives dW and db', () => {
    const x = rand([3, 5]);
    const w = rand([5, 4]);
    const b = rand([4]);
    expect(gradError((a, k, c) => dense(a, k, c), [x, w, b], [0, 1, 2])).toBeLessThan(2e-3);
    expect(gradError((a, k) => dense(a, k, undefined), [x, w], [0, 1])).toBeLessThan(2e-3);
    expect(gradError((a, k, c) => dense(a, k, c, true), [x, w, b], [1, 2])).toBeLessThan(2e-3);
  });

  it('models - conv2d 3x3 same (dx, dW, db) on cpu and on wasm (which lacks Conv2DBackpropFilter)', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      await initBackend(backend, true);
      const x = rand([2, 5, 4, 2]);
      const w = rand([3, 3, 2, 3]);
      const b = rand([3]);
      expect(gradError((a, k, c) => conv2dSame(a, k, c), [x, w, b], [0, 1, 2])).toBeLessThan(2e-3);
      expect(gradError((a, k) => conv2dSame(a, k, undefined), [x, w], [0, 1])).toBeLessThan(2e-3);
    }
    await initBackend('cpu', true);
  });

  it('models - relu, soft gate, gated products, flatten and GAP', () => {
    // Values away from 0, where relu is differentiable.
    const q = tf.tidy(() => tf.add(tf.mul(tf.sign(rand([3, 4])), 0.5), rand([3, 4], -0.3, 0.3)));
    expect(gradError((a) => relu(a), [q], [0])).toBeLessThan(2e-3);
    expect(gradError((a) => softGateOp(a, 4, 0.1), [rand([3, 4])], [0], 1e-3)).toBeLessThan(5e-3);
    const g = rand([3, 4]);
    expect(gradError((a) => gateConst(a, g), [rand([3, 4])], [0])).toBeLessThan(2e-3);
    expect(gradError((a, c) => gateMul(a, c), [rand([3, 4]), g], [0, 1])).toBeLessThan(2e-3);
    expect(gradError((a) => flatten(a), [rand([2, 3, 3, 2])], [0])).toBeLessThan(2e-3);
    expect(gradError((a) => globalAveragePool(a), [rand([2, 3, 3, 2])], [0])).toBeLessThan(2e-3);
  });

  it('models - softmax cross-entropy and squared loss', () => {
    const onehot = tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3);
    expect(gradError((z) => softmaxCrossEntropy(z as tf.Tensor2D, onehot as tf.Tensor2D), [rand([3, 3], -2, 2)], [0])).toBeLessThan(2e-3);
    const t = rand([3, 1]);
    expect(gradError((o) => meanSquaredError(o as tf.Tensor2D, t as tf.Tensor2D), [rand([3, 1])], [0])).toBeLessThan(2e-3);
  });

  it('models - the check fails on a wrong gradient (sanity of the harness)', () => {
    const wrong = tf.customGrad(((x: tf.Tensor) => ({ value: tf.square(x), gradFunc: (dy: tf.Tensor) => [tf.mul(dy, x)] })) as unknown as Parameters<
      typeof tf.customGrad
    >[0]);
    expect(gradError((a) => wrong(a), [rand([4], 0.5, 1)], [0])).toBeGreaterThan(0.1);
  });
});

describe('models - losses', () => {
  it('models - cross-entropy equals -mean log softmax of the true class', () => {
    const z = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 5],
    ]);
    const onehot = tf.tensor2d([
      [1, 0, 0],
      [0, 0, 1],
    ]);
    const expected = (-Math.log(Math.exp(1) / (Math.exp(1) + Math.exp(2) + Math.exp(3))) - Math.log(Math.exp(5) / (2 + Math.exp(5)))) / 2;
    expect(softmaxCrossEntropy(z, onehot).dataSync()[0]).toBeCloseTo(expected, 5);
  });
});
