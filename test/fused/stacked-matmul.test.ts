import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../science/backend/init-backend.js';
import { stackedMatMul } from '../../science/fused/stacked-matmul.js';
import { mulberry32 } from '../../science/models/prng.js';

function random(shape: number[], seed: number): tf.Tensor {
  const rng = mulberry32(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() - 0.5), shape);
}

/** Member k's product as one model would compute it: a plain 2-D matMul. */
function reference(a: tf.Tensor, b: tf.Tensor, k: number): Float32Array {
  return tf.tidy(() => {
    const ak = a.rank === 3 ? tf.squeeze(tf.slice(a, [k], [1]), [0]) : a;
    const bk = b.rank === 3 ? tf.squeeze(tf.slice(b, [k], [1]), [0]) : b;
    return tf.matMul(ak as tf.Tensor2D, bk as tf.Tensor2D).dataSync() as Float32Array;
  });
}

describe('fused - stacked matMul', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`fused - ${backend}: member k of the stack equals the 2-D product of its slices, with a or b shared or stacked`, async () => {
      await initBackend(backend, false);
      const k = 3;
      const cases: [number[], number[]][] = [
        [[k, 5, 7], [k, 7, 4]],
        [[5, 7], [k, 7, 4]],
        [[k, 5, 7], [7, 4]],
        [[k, 1, 9], [k, 9, 1]],
      ];
      for (const [i, [as, bs]] of cases.entries()) {
        const a = random(as, 10 + i);
        const b = random(bs, 20 + i);
        const out = stackedMatMul(a, b);
        expect(out.shape).toEqual([k, as[as.length - 2], bs[bs.length - 1]]);
        const rows = out.shape[1] * out.shape[2];
        const got = out.dataSync();
        for (let m = 0; m < k; m++) {
          // The same kernels per member: bit-identical on wasm (XNNPACK), and on cpu.
          expect(Array.from(got.subarray(m * rows, (m + 1) * rows))).toEqual(Array.from(reference(a, b, m)));
        }
        tf.dispose([a, b, out]);
      }
    });
  }

  it('fused - wasm: the temporary member views are released (no tensor or memory growth over many calls)', async () => {
    await initBackend('wasm', false);
    const a = random([4, 8, 16], 1);
    const b = random([4, 16, 8], 2);
    tf.dispose(stackedMatMul(a, b));
    const before = tf.memory();
    for (let i = 0; i < 50; i++) tf.dispose(stackedMatMul(a, b));
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    tf.dispose([a, b]);
  });

  it('fused - two 2-D operands are refused (nothing to stack)', async () => {
    await initBackend('wasm', false);
    const a = random([2, 3], 1);
    const b = random([3, 2], 2);
    expect(() => stackedMatMul(a, b)).toThrow(/stacked/);
    tf.dispose([a, b]);
  });
});
