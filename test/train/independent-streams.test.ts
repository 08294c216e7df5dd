import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../science/backend/init-backend.js';
import { readCheckpoint } from '../../science/checkpoint/checkpoint-io.js';
import { CheckpointError } from '../../science/checkpoint/errors.js';
import { gatesFromCheckpoint } from '../../science/checkpoint/model-checkpoint.js';
import { planNetwork } from '../../science/models/architecture.js';
import type { LayerStack } from '../../science/models/network.js';
import { permutation } from '../../science/models/prng.js';
import { runTrial } from '../../science/run-trial.js';
import { planRegime } from '../../science/regimes.js';
import { buildTrialModel } from '../../science/train/trial-model.js';
import { streamLabel, trialRng } from '../../science/train/trial-streams.js';
import type { CheckpointInfo, TrialSpec } from '../../science/types.js';
import { syntheticDataset, tinyTrialSpec } from './synthetic-data.js';

const data = syntheticDataset();
const deps = { loadDataset: async () => data, readEvery: 4 };
const plan = planNetwork({ kind: 'fc', width: 16, depth: 3 }, [4, 4, 1], 3, true);

const spec = (over: Record<string, unknown> = {}): TrialSpec => tinyTrialSpec(over);

function weights(stack: LayerStack): number[][] {
  return stack.flatMap((p) => [Array.from(p.kernel.dataSync()), ...(p.bias ? [Array.from(p.bias.dataSync())] : [])]);
}

function kernels(stack: LayerStack): number[][] {
  return stack.map((p) => Array.from(p.kernel.dataSync()));
}

let parentBest: CheckpointInfo;
let parentFinal: CheckpointInfo;

beforeAll(async () => {
  await initBackend('wasm', false);
  const parent = await runTrial(spec({ checkpoints: { best: true, final: true } }), { checkpointDir: mkdtempSync(join(tmpdir(), 'npf-streams-')) }, deps);
  parentBest = parent.checkpoints.find((c) => c.name === 'best')!;
  parentFinal = parent.checkpoints.find((c) => c.name === 'final')!;
});

describe('train - FLNPF and stage k share only the gates with their ReLU parent', () => {
  it('train - stream labels: plain for regimes with their own gates, scoped by regime and stage for checkpoint-gated ones', () => {
    expect(streamLabel('value', planRegime('relu'))).toBe('value');
    expect(streamLabel('value', planRegime('frnpf-ii'))).toBe('value');
    expect(streamLabel('shuffle', planRegime('stage', 0))).toBe('shuffle');
    expect(streamLabel('value', planRegime('flnpf'))).toBe('value:flnpf');
    expect(streamLabel('shuffle', planRegime('flnpf'))).toBe('shuffle:flnpf');
    expect(streamLabel('value', planRegime('stage', 3))).toBe('value:stage-3');
    expect(streamLabel('value', planRegime('stage', 4))).not.toBe(streamLabel('value', planRegime('stage', 3)));
  });

  it("train - FLNPF's value network and head differ from the parent's initial weights; its gates are the parent's best checkpoint exactly", async () => {
    const content = await readCheckpoint(parentBest);
    const relu = buildTrialModel({ plan, regime: planRegime('relu'), init: 'glorot-uniform', gate: { beta: 4, eps: 0.1 }, seed: 5 });
    for (const [regime, stage] of [['flnpf', undefined], ['stage', 2]] as const) {
      const gates = gatesFromCheckpoint(content, plan, parentBest.path);
      const child = buildTrialModel({ plan, regime: planRegime(regime, stage), init: 'glorot-uniform', gate: { beta: 4, eps: 0.1 }, seed: 5, featureFromCheckpoint: gates });
      const reluInit = kernels(relu.value);
      const childInit = kernels(child.value);
      expect(childInit.length).toBe(reluInit.length);
      // Every layer's kernel differs (not merely one), and so does the head's (biases start at 0 in both).
      childInit.forEach((w, l) => expect(w).not.toEqual(reluInit[l]));
      expect(kernels([child.head])).not.toEqual(kernels([relu.head]));
      // The gates: bit-for-bit the parent's trained hidden layers.
      weights(child.feature!).forEach((w, l) => expect(w).toEqual(Array.from(content.data[l])));
      child.dispose();
    }
    // Regimes with their own gates keep sharing the value init (FRNPF-II vs ReLU, same seed).
    const frnpf = buildTrialModel({ plan, regime: planRegime('frnpf-ii'), init: 'glorot-uniform', gate: { beta: 4, eps: 0.1 }, seed: 5 });
    expect(weights(frnpf.value)).toEqual(weights(relu.value));
    frnpf.dispose();
    relu.dispose();
  });

  it("train - FLNPF's minibatch order is not its parent's", () => {
    const order = (regime: ReturnType<typeof planRegime>) => Array.from(permutation(256, trialRng(5, 'shuffle', regime)));
    expect(order(planRegime('flnpf'))).not.toEqual(order(planRegime('relu')));
    expect(order(planRegime('stage', 1))).not.toEqual(order(planRegime('relu')));
    expect(order(planRegime('flnpf'))).toEqual(order(planRegime('flnpf')));
  });

  it('train - a trained FLNPF trial still holds the parent checkpoint as its (frozen) feature network', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npf-streams-child-'));
    const gates = { path: parentBest.path, sha256: parentBest.sha256 };
    const child = await runTrial(spec({ regime: 'flnpf', epochs: 2, checkpoints: { final: true } }), { checkpointDir: dir, gates }, deps);
    expect(child.status).toBe('succeeded');
    const parent = await readCheckpoint(parentBest);
    const saved = await readCheckpoint(child.checkpoints.find((c) => c.name === 'final')!);
    parent.header.tensors.forEach((t, i) => {
      if (!t.name.startsWith('hidden.')) return;
      const j = saved.header.tensors.findIndex((s) => s.name === t.name.replace('hidden.', 'feature.'));
      expect(j).toBeGreaterThanOrEqual(0);
      expect(Array.from(saved.data[j])).toEqual(Array.from(parent.data[i]));
    });
  });

  it("train - FLNPF refuses a ReLU checkpoint that is not 'best', naming the file and what it holds", async () => {
    const s = spec({ regime: 'flnpf', epochs: 1 });
    const gates = { path: parentFinal.path, sha256: parentFinal.sha256 };
    await expect(runTrial(s, { gates }, deps)).rejects.toThrow(CheckpointError);
    await expect(runTrial(s, { gates }, deps)).rejects.toThrow(/FLNPF needs the ReLU run's best-test-accuracy \('best'\) weights, this file holds 'final'/);
    await expect(runTrial(s, { gates }, deps)).rejects.toThrow(parentFinal.path);
  });
});
