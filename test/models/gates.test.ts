import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../science/backend/init-backend.js';
import { hardGate, softGate } from '../../science/models/gates.js';
import { planNetwork } from '../../science/models/architecture.js';
import { hardGates } from '../../science/models/network.js';
import { planRegime } from '../../science/regimes.js';
import { buildTrialModel } from '../../science/train/trial-model.js';

beforeAll(async () => {
  await initBackend('wasm', false);
});

describe('models - gates', () => {
  it('models - soft gate is (1 + eps) * sigmoid(beta * q) with beta 4, eps 0.1 by default', () => {
    const q = [-2, -0.5, 0, 0.25, 3];
    const got = Array.from(softGate(tf.tensor1d(q), 4, 0.1).dataSync());
    q.forEach((v, i) => expect(got[i]).toBeCloseTo(1.1 / (1 + Math.exp(-4 * v)), 6));
    const other = Array.from(softGate(tf.tensor1d([1]), 2, 0.5).dataSync());
    expect(other[0]).toBeCloseTo(1.5 / (1 + Math.exp(-2)), 6);
  });

  it('models - hard gate is 1[q > 0] (0 at q = 0)', () => {
    expect(Array.from(hardGate(tf.tensor1d([-1, 0, 1e-6, 2])).dataSync())).toEqual([0, 0, 1, 1]);
  });

  it("models - frnpf-di gates at t = 0 equal the value net's own ReLU gates; frnpf-ii's differ", () => {
    const plan = planNetwork({ kind: 'fc', width: 24, depth: 3 }, [28, 28, 1], 10, true);
    const x = tf.randomUniform([6, 784], 0, 1, 'float32', 5);
    const di = buildTrialModel({ plan, regime: planRegime('frnpf-di'), init: 'glorot-uniform', gate: { beta: 4, eps: 0.1 }, seed: 9 });
    const fromFeature = di.gateActivity(x).map((g) => Array.from(g.dataSync()));
    const fromValue = hardGates(plan, di.value, x).map((g) => Array.from(g.dataSync()));
    expect(fromFeature).toEqual(fromValue);
    const ii = buildTrialModel({ plan, regime: planRegime('frnpf-ii'), init: 'glorot-uniform', gate: { beta: 4, eps: 0.1 }, seed: 9 });
    const iiGates = ii.gateActivity(x).map((g) => Array.from(g.dataSync()));
    expect(iiGates).not.toEqual(fromValue);
    // Same seed: FRNPF-II and FRNPF-DI share the value net's init.
    expect(Array.from(ii.value[0].kernel.dataSync())).toEqual(Array.from(di.value[0].kernel.dataSync()));
    di.dispose();
    ii.dispose();
  });
});
