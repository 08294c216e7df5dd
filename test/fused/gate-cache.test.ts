import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { computeGateBits, gateCacheFits, gateLayout, packGates, unpackGates } from '../../science/fused/gate-cache.js';
import { buildStackedModel } from '../../science/fused/stacked-model.js';
import { planNetwork } from '../../science/models/architecture.js';
import { planRegime } from '../../science/regimes.js';
import { mulberry32 } from '../../science/models/prng.js';
import { initBackend } from '../../science/backend/init-backend.js';
import { blasPresence } from '../../science/backend/blas.js';
import type { Split } from '../../science/datasets/dataset.js';

describe('fused - gate cache', () => {
  it('fused - gates packed to bits unpack to the same 0/1 rows, for any widths and any rows picked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer(),
        (widths, k, n, seed) => {
          const layout = gateLayout(widths);
          const rng = mulberry32(seed);
          const gates = widths.map((w) => Float32Array.from({ length: k * n * w }, () => (rng.next() < 0.5 ? 1 : 0)));
          const bits = Array.from({ length: k }, () => new Uint8Array(n * layout.bytesPerExample));
          packGates(layout, gates, k, n, 0, bits);
          // Rows in reverse order, per member.
          const rows = unpackGates(layout, bits, n, (_, i) => n - 1 - i);
          widths.forEach((w, l) => {
            for (let j = 0; j < k; j++)
              for (let i = 0; i < n; i++)
                for (let u = 0; u < w; u++) expect(rows[l][(j * n + i) * w + u]).toBe(gates[l][(j * n + (n - 1 - i)) * w + u]);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  // wasm-blas where the machine has OpenBLAS (CI installs it).
  for (const backend of blasPresence().ok ? (['wasm', 'wasm-blas'] as const) : (['wasm'] as const)) {
    it(`fused - ${backend}: cached bits equal the gates the step computes on each member's own batch (784-128x5, chunks that do not divide the set)`, async () => {
      await initBackend(backend, false);
      const rng = mulberry32(5);
      // MNIST-like: most pixels zero, so some units sit near their threshold.
      const train: Split = { x: Float32Array.from({ length: 50 * 784 }, () => (rng.next() < 0.8 ? 0 : rng.next())), labels: new Int32Array(50), n: 50 };
      const data = { train };
      const plan = planNetwork({ kind: 'fc', width: 128, depth: 5 }, [28, 28, 1], 10, true);
      for (const regime of ['frnpf-ii', 'frnpf-di'] as const) {
        const model = buildStackedModel({ plan, regime: planRegime(regime), init: 'glorot-uniform', gate: { beta: 4, eps: 0.1 }, members: [{ seed: 1 }, { seed: 2 }, { seed: 3 }] });
        try {
          const layout = gateLayout(model.gateWidths);
          const bits = await computeGateBits(model, layout, data.train, 784, 7);
          // Each member's batch: a different set of rows, as the training loop gives them.
          const orders = [0, 1, 2].map((j) => Int32Array.from({ length: 32 }, (_, i) => (i * (j + 3) + j) % 50));
          const expected = tf.tidy(() => {
            const x = new Float32Array(3 * 32 * 784);
            orders.forEach((o, j) => o.forEach((e, i) => x.set(data.train.x.subarray(e * 784, (e + 1) * 784), (j * 32 + i) * 784)));
            const xs = tf.tensor3d(x, [3, 32, 784]);
            // The stack's own per-batch gates: what trainingForward computes when given none.
            return model.frozenGates(xs).map((g) => g.dataSync() as Float32Array);
          });
          const cached = unpackGates(layout, bits, 32, (j, i) => orders[j][i]);
          expect(cached.map((g) => Array.from(g)), regime).toEqual(expected.map((g) => Array.from(g)));
          expect(cached[0].some((v) => v === 1) && cached[0].some((v) => v === 0)).toBe(true);
        } finally {
          model.dispose();
        }
      }
    });
  }

  it('fused - the cache is bounded: MNIST at K = 16 fits, a million examples at K = 8 does not', () => {
    const layout = gateLayout([128, 128, 128, 128, 128]);
    expect(layout.bytesPerExample).toBe(80);
    expect(gateLayout([5, 12]).bytesPerExample).toBe(3);
    expect(gateCacheFits(layout, 16, 70_000)).toBe(true);
    expect(gateCacheFits(layout, 8, 1_000_000)).toBe(false);
    expect(gateCacheFits(layout, 2, 10, 1600)).toBe(true);
    expect(gateCacheFits(layout, 2, 11, 1600)).toBe(false);
  });

  it('fused - a stack without frozen gates (ReLU, DNPFL) has none to cache', async () => {
    await initBackend('wasm', false);
    const plan = planNetwork({ kind: 'fc', width: 8, depth: 2 }, [2, 2, 1], 3, true);
    for (const regime of ['relu', 'dnpfl'] as const) {
      const model = buildStackedModel({ plan, regime: planRegime(regime), init: 'glorot-uniform', gate: { beta: 4, eps: 0.1 }, members: [{ seed: 1 }] });
      try {
        expect(model.hasFrozenGates).toBe(false);
        expect(() => model.frozenGates(tf.zeros([1, 4]))).toThrow(/no frozen gates/);
      } finally {
        model.dispose();
      }
    }
  });
});
