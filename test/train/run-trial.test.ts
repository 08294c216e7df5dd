import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTrial, TrialSetupError } from '../../science/run-trial.js';
import type { TrialProgress, TrialSpec } from '../../science/types.js';
import { CheckpointError } from '../../science/checkpoint/errors.js';
import { InvalidInputError } from '../../common/errors.js';
import { syntheticBinaryDataset, syntheticDataset, tinyTrialSpec } from './synthetic-data.js';

const data = syntheticDataset();
const deps = { loadDataset: async () => data, readEvery: 4 };

const spec = (over: Record<string, unknown> = {}): TrialSpec => tinyTrialSpec(over);

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'npf-train-test-'));

describe('train - runTrial', () => {
  it('train - a small trial learns and reports every epoch, the best epoch and the backend', async () => {
    const r = await runTrial(spec({ epochs: 6 }), {}, deps);
    expect(r.status).toBe('succeeded');
    expect(r.backend).toBe('wasm');
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.epochs[5].trainLoss).toBeLessThan(r.epochs[0].trainLoss);
    expect(r.bestTestAccuracy).toBe(Math.max(...r.epochs.map((e) => e.testAccuracy)));
    expect(r.epochs[r.bestEpoch - 1].testAccuracy).toBe(r.bestTestAccuracy);
    expect(r.bestTestAccuracy).toBeGreaterThan(0.6); // 3 classes: chance is ~0.33
    for (const e of r.epochs) expect(e.examplesPerSec).toBeGreaterThan(0);
  });

  it('train - same spec, seed and backend give bit-identical results (every regime)', async () => {
    for (const regime of ['relu', 'frnpf-ii', 'frnpf-di', 'dnpfl'] as const) {
      const s = spec({ regime, epochs: 2, checkpoints: { final: true } });
      const a = await runTrial(s, { checkpointDir: tempDir() }, deps);
      const b = await runTrial(s, { checkpointDir: tempDir() }, deps);
      const strip = (r: typeof a) => r.epochs.map(({ trainLoss, testLoss, testAccuracy }) => [trainLoss, testLoss, testAccuracy]);
      expect(strip(a)).toEqual(strip(b));
      expect(a.checkpoints[0].sha256).toBe(b.checkpoints[0].sha256);
      const c = await runTrial(spec({ regime, epochs: 2, seed: 6 }), {}, deps);
      expect(strip(c)).not.toEqual(strip(a));
    }
  });

  it("train - a huge step size ends with status 'diverged' and divergedAtEpoch, not a throw", async () => {
    const r = await runTrial(spec({ optimizer: { name: 'sgd', lr: 1e30 }, epochs: 3 }), {}, deps);
    expect(r.status).toBe('diverged');
    expect(r.divergedAtEpoch).toBe(1);
    expect(r.epochs).toEqual([]);
  });

  it("train - an AbortSignal cancels between steps: status 'cancelled'", async () => {
    const controller = new AbortController();
    const events: TrialProgress[] = [];
    const r = await runTrial(
      spec({ epochs: 50 }),
      {
        signal: controller.signal,
        onProgress: (e) => {
          events.push(e);
          if (e.kind === 'epoch' && e.record.epoch === 2) controller.abort();
        },
      },
      deps,
    );
    expect(r.status).toBe('cancelled');
    expect(r.epochs.length).toBe(2);
    expect(events.filter((e) => e.kind === 'step').length).toBeGreaterThan(0);
  });

  it('train - no tensor leaks: the tensor count is flat over epochs and back to the start after the trial', async () => {
    const before = tf.memory().numTensors;
    for (const regime of ['relu', 'frnpf-ii', 'dnpfl'] as const) {
      const counts: number[] = [];
      await runTrial(
        spec({ regime, epochs: 4, optimizer: { name: 'rmsprop', lr: 1e-3 }, checkpoints: { best: true, bestAtEpochs: [2] } }),
        { checkpointDir: tempDir(), onProgress: (e) => e.kind === 'epoch' && counts.push(tf.memory().numTensors) },
        deps,
      );
      expect(counts.length).toBe(4);
      expect(new Set(counts.slice(1)).size).toBe(1);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('train - squared loss on a one-output (binary-mnist shaped) dataset, sign-sqrt2 init without biases', async () => {
    const r = await runTrial(
      spec({ dataset: { name: 'binary-mnist' }, init: 'sign-sqrt2', optimizer: { name: 'rmsprop', lr: 1e-3 }, epochs: 4 }),
      {},
      { loadDataset: async () => syntheticBinaryDataset() },
    );
    expect(r.status).toBe('succeeded');
    expect(r.epochs[3].trainLoss).toBeLessThan(r.epochs[0].trainLoss);
    await expect(runTrial(spec({ dataset: { name: 'binary-mnist' }, loss: 'cross-entropy' }), {}, { loadDataset: async () => syntheticBinaryDataset() })).rejects.toThrow(
      TrialSetupError,
    );
  });

  it('train - a ReLU trial writes best, best@k and final; FLNPF and stage k gate from them', async () => {
    const dir = tempDir();
    const parent = await runTrial(spec({ epochs: 4, checkpoints: { best: true, final: true, bestAtEpochs: [2, 4] } }), { checkpointDir: dir }, deps);
    expect(parent.checkpoints.map((c) => c.name).sort()).toEqual(['best', 'best@2', 'best@4', 'final']);
    const best = parent.checkpoints.find((c) => c.name === 'best')!;
    expect(best.epoch).toBe(parent.bestEpoch);
    const at2 = parent.checkpoints.find((c) => c.name === 'best@2')!;
    expect(at2.epoch).toBeLessThanOrEqual(2);
    expect(at2.testAccuracy).toBe(Math.max(parent.epochs[0].testAccuracy, parent.epochs[1].testAccuracy));

    const gates = { path: best.path, sha256: best.sha256 };
    const child = await runTrial(spec({ regime: 'flnpf' }), { gates }, deps);
    expect(child.status).toBe('succeeded');
    // A stage trial must get the best@<10k> file it names (here: stage 1 wants best@10).
    await expect(runTrial(spec({ regime: 'stage', stage: 1 }), { gates: { path: at2.path, sha256: at2.sha256 } }, deps)).rejects.toThrow(/best@10/);
    // A checkpoint of another width is refused with the file named.
    const other = spec({ regime: 'flnpf', arch: { kind: 'fc', width: 8, depth: 3 } });
    await expect(runTrial(other, { gates }, deps)).rejects.toThrow(CheckpointError);
    await expect(runTrial(other, { gates }, deps)).rejects.toThrow(best.path);
    // Bytes that do not hash to the pinned sha256 are refused.
    await expect(runTrial(spec({ regime: 'flnpf' }), { gates: { ...gates, sha256: '0'.repeat(64) } }, deps)).rejects.toThrow(CheckpointError);
  });

  it('train - gates are an input beside the spec: required by flnpf and stage k >= 1, refused by every other regime', async () => {
    const gates = { path: '/nonexistent/best.npfckpt', sha256: 'a'.repeat(64) };
    await expect(runTrial(spec({ regime: 'flnpf' }), {}, deps)).rejects.toThrow("regime 'flnpf' needs gates: the ReLU parent's 'best' checkpoint");
    await expect(runTrial(spec({ regime: 'stage', stage: 2 }), {}, deps)).rejects.toThrow("regime 'stage' needs gates: the ReLU parent's 'best@20' checkpoint");
    for (const s of [spec({ regime: 'relu' }), spec({ regime: 'dnpfl' }), spec({ regime: 'stage', stage: 0 })]) {
      await expect(runTrial(s, { gates }, deps)).rejects.toThrow(InvalidInputError);
      await expect(runTrial(s, { gates }, deps)).rejects.toThrow('takes no gates from a checkpoint');
    }
    await expect(runTrial(spec({ regime: 'flnpf' }), { gates: { ...gates, sha256: 'xyz' } }, deps)).rejects.toThrow('gates.sha256: must be 64 hex digits');
  });

  it('train - nu_t is measured at epoch 0 and every `every` epochs on a binary task (the nu_t experiment)', async () => {
    const binary = syntheticBinaryDataset(96, 32);
    const s = spec({
      dataset: { name: 'binary-mnist' },
      arch: { kind: 'fc', width: 12, depth: 3, bias: false },
      init: 'sign-sqrt2',
      optimizer: { name: 'rmsprop', lr: 1e-3 },
      epochs: 4,
      measure: { npk: { every: 2, examplesPerClass: 10 } },
    });
    const r = await runTrial(s, {}, { loadDataset: async () => binary, readEvery: 4 });
    expect(r.npk?.map((p) => p.epoch)).toEqual([0, 2, 4]);
    for (const p of r.npk ?? []) {
      expect(p.method).toBe('full-rank');
      expect(p.n).toBe(20);
      expect(typeof p.nu === 'number' && Number.isFinite(p.nu) && p.nu > 0).toBe(true);
      expect(p.conditionNumber).toBeGreaterThanOrEqual(1);
    }
    // Training moves the gates, so the kernel (and nu) changes.
    expect(r.npk![2].nu).not.toBe(r.npk![0].nu);
  });

  it('train - the NTK split of a DNPFL trial gives non-zero K_v and K_phi of the true-class logit', async () => {
    const r = await runTrial(spec({ regime: 'dnpfl', epochs: 1, measure: { ntkSplit: { every: 1, examplesPerClass: 3 } } }), {}, deps);
    expect(r.ntkSplit?.map((p) => p.epoch)).toEqual([0, 1]);
    for (const p of r.ntkSplit ?? []) {
      expect(p.output).toBe('true-class-logit');
      expect(p.valueTrace).toBeGreaterThan(0);
      expect(p.featureTrace).toBeGreaterThan(0);
      // Frobenius norm of a PSD matrix lies between trace / sqrt(n) and trace.
      expect(p.valueFrobenius).toBeLessThanOrEqual(p.valueTrace * (1 + 1e-9));
      expect(p.valueFrobenius).toBeGreaterThanOrEqual(p.valueTrace / Math.sqrt(9) - 1e-9);
    }
  });

  it('train - the NTK split: weights only by default, biases on request, recorded in each point', async () => {
    const base = { regime: 'dnpfl', epochs: 1 } as const;
    const weights = await runTrial(spec({ ...base, measure: { ntkSplit: { every: 1, examplesPerClass: 3 } } }), {}, deps);
    const withBias = await runTrial(spec({ ...base, measure: { ntkSplit: { every: 1, examplesPerClass: 3, includeBias: true } } }), {}, deps);
    expect(weights.ntkSplit![0].parameters).toBe('weights');
    expect(withBias.ntkSplit![0].parameters).toBe('weights+biases');
    // Same network at epoch 0: the bias gradients add a PSD Gram matrix, so both traces grow.
    expect(withBias.ntkSplit![0].valueTrace).toBeGreaterThan(weights.ntkSplit![0].valueTrace);
    expect(withBias.ntkSplit![0].featureTrace).toBeGreaterThan(weights.ntkSplit![0].featureTrace);
  });

  it('train - the NTK split runs on a 1-output network (binary-mnist shaped): the output itself is differentiated', async () => {
    const r = await runTrial(
      spec({ dataset: { name: 'binary-mnist' }, regime: 'dnpfl', optimizer: { name: 'rmsprop', lr: 1e-3 }, epochs: 1, measure: { ntkSplit: { every: 1, examplesPerClass: 4 } } }),
      {},
      { loadDataset: async () => syntheticBinaryDataset(), readEvery: 4 },
    );
    expect(r.ntkSplit?.map((p) => p.epoch)).toEqual([0, 1]);
    for (const p of r.ntkSplit ?? []) {
      expect(p.output).toBe('output');
      expect(p.valueTrace).toBeGreaterThan(0);
      expect(p.featureTrace).toBeGreaterThan(0);
    }
  });

  it('train - nu on a 10-class task is refused with the field named (nu needs -1/+1 targets)', async () => {
    await expect(runTrial(spec({ measure: { npk: { every: 1, examplesPerClass: 2 } } }), {}, deps)).rejects.toThrow(/measure\.npk: .*1-output/);
  });
});
