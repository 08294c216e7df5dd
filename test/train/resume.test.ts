/**
 * Resume: a trial interrupted after an epoch and continued from its resume state ends with the
 * result of an uninterrupted run (same per-epoch losses and accuracies, same best, same named
 * checkpoints byte for byte): weights, optimiser state, data order and best-so-far are restored.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../science/checkpoint/errors.js';
import { runTrial } from '../../science/run-trial.js';
import { resolveTrialSpec } from '../../science/trial-spec.js';
import type { CheckpointInfo, TrialProgress, TrialResult, TrialSpec } from '../../science/types.js';
import { syntheticDataset } from './synthetic-data.js';

const data = syntheticDataset();
const deps = { loadDataset: async () => data, readEvery: 4 };
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'npf-resume-test-'));

function spec(over: Record<string, unknown> = {}): TrialSpec {
  return resolveTrialSpec({
    dataset: { name: 'mnist' },
    arch: { kind: 'fc', width: 16, depth: 2 },
    regime: 'relu',
    optimizer: { name: 'adam', lr: 1e-2 },
    epochs: 4,
    batchSize: 16,
    seed: 7,
    backend: 'wasm',
    checkpoints: { best: true, bestAtEpochs: [1, 3] },
    ...over,
  });
}

/** Run until the first resume point after `stopAfter` epochs, then cancel: the interrupted attempt. */
async function interruptedAfter(s: TrialSpec, stopAfter: number): Promise<{ result: TrialResult; point: CheckpointInfo }> {
  const abort = new AbortController();
  let point: CheckpointInfo | undefined;
  const result = await runTrial(
    s,
    {
      checkpointDir: tempDir(),
      signal: abort.signal,
      resumeEveryMs: 0,
      onProgress: (e: TrialProgress) => {
        if (e.kind === 'resume-point' && e.checkpoint.epoch === stopAfter) {
          point = e.checkpoint;
          abort.abort();
        }
      },
    },
    deps,
  );
  return { result, point: point! };
}

const curve = (r: TrialResult) => r.epochs.map(({ epoch, trainLoss, testLoss, testAccuracy }) => [epoch, trainLoss, testLoss, testAccuracy]);

describe('train - resume from a resume state', () => {
  for (const optimizer of [{ name: 'adam', lr: 1e-2 }, { name: 'sgd', lr: 0.1 }, { name: 'rmsprop', lr: 1e-3 }]) {
    it(`resume - ${optimizer.name}: interrupted after epoch 2 and resumed, the trial ends as an uninterrupted run does`, async () => {
      const s = spec({ optimizer });
      const whole = await runTrial(s, { checkpointDir: tempDir() }, deps);
      const first = await interruptedAfter(s, 2);
      expect(first.result.status).toBe('cancelled');
      expect(first.result.epochs.map((e) => e.epoch)).toEqual([1, 2]);
      const events: TrialProgress[] = [];
      const dir = tempDir();
      const resumed = await runTrial(s, { checkpointDir: dir, resume: { path: first.point.path, sha256: first.point.sha256 }, onProgress: (e) => events.push(e) }, deps);
      expect(resumed.status).toBe('succeeded');
      expect(resumed.resumedFromEpoch).toBe(2);
      expect(events.find((e) => e.kind === 'resumed')).toEqual({ kind: 'resumed', fromEpoch: 2 });
      // Only epochs 3 and 4 were trained again; every number is the uninterrupted run's.
      expect(events.filter((e) => e.kind === 'epoch').map((e) => (e as { record: { epoch: number } }).record.epoch)).toEqual([3, 4]);
      expect(curve(resumed)).toEqual(curve(whole));
      expect([resumed.bestTestAccuracy, resumed.bestEpoch, resumed.finalTestAccuracy]).toEqual([whole.bestTestAccuracy, whole.bestEpoch, whole.finalTestAccuracy]);
      // Named checkpoints: best@1 (written before the interruption, carried in the state), best@3 and best, all byte-identical.
      const bytes = (r: TrialResult) => Object.fromEntries(r.checkpoints.map((c) => [c.name, [c.sha256, c.epoch, readFileSync(c.path).length]]));
      expect(bytes(resumed)).toEqual(bytes(whole));
      expect(resumed.checkpoints.map((c) => c.name).sort()).toEqual(['best', 'best@1', 'best@3']);
    });
  }

  it('resume - a resume state is refused by another trial, and a changed file by its hash', async () => {
    const s = spec({ epochs: 2, checkpoints: undefined });
    const { point } = await interruptedAfter(s, 1);
    const other = spec({ epochs: 2, checkpoints: undefined, seed: 8 });
    await expect(runTrial(other, { resume: { path: point.path, sha256: point.sha256 } }, deps)).rejects.toThrow(CheckpointError);
    await expect(runTrial(other, { resume: { path: point.path, sha256: point.sha256 } }, deps)).rejects.toThrow('is the resume state of another trial');
    await expect(runTrial(s, { resume: { path: point.path, sha256: '0'.repeat(64) } }, deps)).rejects.toThrow('content hash mismatch');
  });

  it('resume - no resume state is written unless asked, and none after the last epoch', async () => {
    const kinds: string[] = [];
    await runTrial(spec({ epochs: 2 }), { checkpointDir: tempDir(), onProgress: (e) => kinds.push(e.kind) }, deps);
    expect(kinds).not.toContain('resume-point');
    const points: number[] = [];
    await runTrial(spec({ epochs: 3 }), { checkpointDir: tempDir(), resumeEveryMs: 0, onProgress: (e) => e.kind === 'resume-point' && points.push(e.checkpoint.epoch) }, deps);
    expect(points).toEqual([1, 2]);
  });
});
