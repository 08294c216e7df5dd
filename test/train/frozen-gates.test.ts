import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../science/backend/init-backend.js';
import { planNetwork } from '../../science/models/architecture.js';
import { createStack, inputBatchShape, type LayerStack } from '../../science/models/network.js';
import { rngFor } from '../../science/models/prng.js';
import { makeTarget } from '../../science/train/loss.js';
import { createOptimizer } from '../../science/train/optimizer.js';
import { planRegime } from '../../science/regimes.js';
import { trainStep } from '../../science/train/train-step.js';
import { buildTrialModel, type TrialModel } from '../../science/train/trial-model.js';
import type { Regime } from '../../science/types.js';

beforeAll(async () => {
  await initBackend('wasm', false);
});

const plan = planNetwork({ kind: 'fc', width: 12, depth: 3 }, [4, 4, 1], 3, true);

function values(stack: LayerStack): number[][] {
  return stack.flatMap((p) => [Array.from(p.kernel.dataSync()), Array.from(p.bias!.dataSync())]);
}

function train(model: TrialModel, steps: number): void {
  const opt = createOptimizer({ name: 'sgd', lr: 0.1 }, model.trainable);
  let acc = tf.scalar(0);
  for (let i = 0; i < steps; i++) {
    const next = tf.tidy(() => {
      const x = tf.randomUniform(inputBatchShape(plan, 8), 0, 1, 'float32', i);
      const t = makeTarget(Int32Array.from({ length: 8 }, (_, k) => (k + i) % 3), undefined, 3);
      return trainStep(model, opt, 'cross-entropy', x, t, acc);
    });
    acc.dispose();
    acc = next;
  }
  acc.dispose();
  opt.dispose();
}

function build(regime: Regime, feature?: LayerStack): TrialModel {
  return buildTrialModel({ plan, regime: planRegime(regime, regime === 'stage' ? 1 : undefined), init: 'glorot-uniform', gate: { beta: 4, eps: 0.1 }, seed: 2, featureFromCheckpoint: feature });
}

describe('train - which weights train in each regime', () => {
  it('train - frozen gates stay fixed after training steps (frnpf-ii, frnpf-di, flnpf, stage); the value net moves', () => {
    for (const regime of ['frnpf-ii', 'frnpf-di', 'flnpf', 'stage'] as Regime[]) {
      const external = regime === 'flnpf' || regime === 'stage' ? createStack(plan, 'glorot-uniform', rngFor(77, 'x'), false) : undefined;
      const m = build(regime, external);
      const feature0 = values(m.feature!);
      const value0 = values(m.value);
      train(m, 5);
      expect(values(m.feature!)).toEqual(feature0);
      expect(values(m.value)).not.toEqual(value0);
      expect(m.trainable.length).toBe(2 * (plan.hidden.length + 1));
      m.dispose();
    }
  });

  it('train - dnpfl trains the feature network too; relu has none', () => {
    const m = build('dnpfl');
    const feature0 = values(m.feature!);
    train(m, 5);
    expect(values(m.feature!)).not.toEqual(feature0);
    expect(m.trainable.length).toBe(2 * (2 * plan.hidden.length + 1));
    m.dispose();
    const r = build('relu');
    expect(r.feature).toBeUndefined();
    r.dispose();
  });
});
