import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../science/backend/init-backend.js';
import { planNetwork } from '../../science/models/architecture.js';
import { inputBatchShape } from '../../science/models/network.js';
import { planRegime } from '../../science/regimes.js';
import { buildTrialModel } from '../../science/train/trial-model.js';
import type { ArchSpec, Regime } from '../../science/types.js';

beforeAll(async () => {
  await initBackend('wasm', false);
});

function forwardShape(arch: ArchSpec, inputShape: [number, number, number], regime: Regime, batch: number): number[] {
  const plan = planNetwork(arch, inputShape, 10, true);
  const model = buildTrialModel({ plan, regime: planRegime(regime), init: 'glorot-uniform', gate: { beta: 4, eps: 0.1 }, seed: 3 });
  try {
    return tf.tidy(() => model.logits(tf.ones(inputBatchShape(plan, batch))).shape);
  } finally {
    model.dispose();
  }
}

describe('models - architectures of docs/protocol.md', () => {
  it('models - FC plan: depth hidden Dense(width) on the flat 784 input, then Dense(10)', () => {
    const plan = planNetwork({ kind: 'fc', width: 128, depth: 5 }, [28, 28, 1], 10, true);
    expect(plan.hidden.map((l) => (l.kind === 'dense' ? [l.inUnits, l.units] : []))).toEqual([
      [784, 128],
      [128, 128],
      [128, 128],
      [128, 128],
      [128, 128],
    ]);
    expect(plan.flatInput).toBe(true);
    expect(plan.transition).toBeUndefined();
  });

  it('models - VCONV plan: 4 convs 64,64,128,128 3x3, Flatten, Dense 256, Dense 256', () => {
    const plan = planNetwork({ kind: 'vconv' }, [32, 32, 3], 10, true);
    expect(plan.hidden).toEqual([
      { kind: 'conv', inChannels: 3, filters: 64, kernelSize: 3 },
      { kind: 'conv', inChannels: 64, filters: 64, kernelSize: 3 },
      { kind: 'conv', inChannels: 64, filters: 128, kernelSize: 3 },
      { kind: 'conv', inChannels: 128, filters: 128, kernelSize: 3 },
      { kind: 'dense', inUnits: 32 * 32 * 128, units: 256 },
      { kind: 'dense', inUnits: 256, units: 256 },
    ]);
    expect(plan.transition).toEqual({ at: 4, kind: 'flatten' });
  });

  it('models - GCONV plan: global average pooling after conv4 gives 128 features', () => {
    const plan = planNetwork({ kind: 'gconv' }, [32, 32, 3], 10, true);
    expect(plan.hidden[4]).toEqual({ kind: 'dense', inUnits: 128, units: 256 });
    expect(plan.transition).toEqual({ at: 4, kind: 'gap' });
  });

  it('models - forward shapes [B, 10] for FC in every regime', () => {
    for (const regime of ['relu', 'frnpf-ii', 'frnpf-di', 'dnpfl'] as Regime[]) {
      expect(forwardShape({ kind: 'fc', width: 16, depth: 3 }, [28, 28, 1], regime, 4)).toEqual([4, 10]);
    }
  });

  it('models - conv forward shapes [B, 10] for VCONV and GCONV (ReLU and DGN), small batch', () => {
    expect(forwardShape({ kind: 'gconv' }, [8, 8, 3], 'relu', 2)).toEqual([2, 10]);
    expect(forwardShape({ kind: 'gconv' }, [8, 8, 3], 'dnpfl', 2)).toEqual([2, 10]);
    expect(forwardShape({ kind: 'vconv' }, [8, 8, 3], 'frnpf-ii', 2)).toEqual([2, 10]);
    expect(forwardShape({ kind: 'vconv' }, [32, 32, 3], 'relu', 1)).toEqual([1, 10]);
  });

  it('models - Glorot-uniform kernels within sqrt(6/(fanIn+fanOut)), zero biases; sign-sqrt2 is +-sqrt(2/width)', () => {
    const plan = planNetwork({ kind: 'fc', width: 32, depth: 2 }, [28, 28, 1], 10, true);
    const m = buildTrialModel({ plan, regime: planRegime('relu'), init: 'glorot-uniform', gate: { beta: 4, eps: 0.1 }, seed: 1 });
    const k0 = m.value[0].kernel.dataSync();
    const limit = Math.sqrt(6 / (784 + 32));
    expect(Math.max(...Array.from(k0, Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...Array.from(k0, Math.abs))).toBeGreaterThan(0.9 * limit);
    expect(Array.from(m.value[0].bias!.dataSync()).every((v) => v === 0)).toBe(true);
    m.dispose();
    const planNoBias = planNetwork({ kind: 'fc', width: 32, depth: 2 }, [28, 28, 1], 1, false);
    const s = buildTrialModel({ plan: planNoBias, regime: planRegime('relu'), init: 'sign-sqrt2', gate: { beta: 4, eps: 0.1 }, seed: 1 });
    const values = new Set(Array.from(s.value[1].kernel.dataSync()).map((v) => v.toFixed(6)));
    expect([...values].sort()).toEqual([(-Math.sqrt(2 / 32)).toFixed(6), Math.sqrt(2 / 32).toFixed(6)].sort());
    expect(s.value[0].bias).toBeUndefined();
    s.dispose();
  });
});
