import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTrial } from '../../science/run-trial.js';
import { initBackend } from '../../science/backend/init-backend.js';
import { blasPresence } from '../../science/backend/blas.js';
import { FusionError, runFusedTrials, type FusedOutcome, type FusedTrialInput } from '../../science/fused/run-fused-trials.js';
import type { CheckpointInfo, CheckpointRef, TrialProgress, TrialResult, TrialSpec } from '../../science/types.js';
import { CheckpointError } from '../../science/checkpoint/errors.js';
import type { Dataset, Split } from '../../science/datasets/dataset.js';
import { mulberry32 } from '../../science/models/prng.js';
import { syntheticBinaryDataset, syntheticDataset, tinyTrialSpec } from '../train/synthetic-data.js';

const data = syntheticDataset(200, 96);
const deps = { loadDataset: async () => data, readEvery: 4 };

const spec = (over: Record<string, unknown> = {}): TrialSpec => tinyTrialSpec(over, 12);

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'npf-fused-test-'));

function results(outcomes: FusedOutcome[]): TrialResult[] {
  return outcomes.map((o, i) => {
    if (!o.ok) throw new Error(`member ${i} failed: ${String(o.error)}`);
    return o.result;
  });
}

/** What must match between a fused member and its unfused run: everything but the timings and file paths. */
function comparable(r: TrialResult): unknown {
  return {
    ...r,
    wallMs: 0,
    epochs: r.epochs.map((e) => ({ ...e, examplesPerSec: 0, durationMs: 0 })),
    checkpoints: r.checkpoints.map((c) => ({ ...c, path: '' })),
  };
}

/** Progress events without timings. */
function comparableEvents(events: TrialProgress[]): unknown[] {
  return events.map((e) => {
    if (e.kind === 'epoch') return { ...e, record: { ...e.record, examplesPerSec: 0, durationMs: 0 } };
    if (e.kind === 'checkpoint') return { ...e, checkpoint: { ...e.checkpoint, path: '' } };
    return e;
  });
}

/** A member: a spec and, for FLNPF and stage k >= 1, its parent's checkpoint. */
function member(s: TrialSpec, gates?: CheckpointRef): FusedTrialInput {
  return { spec: s, options: gates ? { gates } : {} };
}

/** Each member run alone, with runTrial (specs or members with their gates). */
async function unfused(members: (TrialSpec | FusedTrialInput)[]): Promise<TrialResult[]> {
  const out: TrialResult[] = [];
  for (const m of members) {
    const { spec: s, options = {} } = 'spec' in m ? m : { spec: m, options: {} };
    out.push(await runTrial(s, { ...options, checkpointDir: tempDir() }, deps));
  }
  return out;
}

// Both CPU products: XNNPACK (wasm) and, where the machine has OpenBLAS (CI installs it), BLAS.
const UNDER_TEST = blasPresence().ok ? (['wasm', 'wasm-blas'] as const) : (['wasm'] as const);

for (const backend of UNDER_TEST) {
  const spec = (over: Record<string, unknown> = {}): TrialSpec => tinyTrialSpec({ backend, ...over }, 12);

  describe(`fused (${backend}) - a fused member is its unfused trial`, () => {
    it('fused - every regime and optimiser: each member of a stack (different seeds and step sizes) gives its unfused result bit for bit', async () => {
      for (const regime of ['relu', 'frnpf-ii', 'frnpf-di', 'dnpfl'] as const) {
        for (const [name, lrs] of [
          ['adam', [1e-2, 3e-3, 2e-2]],
          ['sgd', [0.1, 0.03, 0.2]],
          ['rmsprop', [1e-3, 3e-3, 5e-4]],
        ] as const) {
          const specs = lrs.map((lr, i) => spec({ regime, seed: 11 + i, epochs: 2, optimizer: { name, lr } }));
          const fused = results(await runFusedTrials(specs.map((s) => ({ spec: s, options: { checkpointDir: tempDir() } })), deps));
          const alone = await unfused(specs);
          expect(fused.map(comparable), `${regime} ${name}`).toEqual(alone.map(comparable));
          // The members really differ (no accidental sharing of one model).
          expect(fused[0].epochs[0].trainLoss).not.toBe(fused[1].epochs[0].trainLoss);
        }
      }
    });

    it('fused - K = 1 is the unfused trial exactly, progress events included; checkpoints have the same bytes', async () => {
      const s = spec({ regime: 'dnpfl', epochs: 4, checkpoints: { best: true, bestAtEpochs: [2, 4], final: true } });
      const fusedEvents: TrialProgress[] = [];
      const aloneEvents: TrialProgress[] = [];
      const [fused] = results(await runFusedTrials([{ spec: s, options: { checkpointDir: tempDir(), onProgress: (e) => fusedEvents.push(e) } }], deps));
      const alone = await runTrial(s, { checkpointDir: tempDir(), onProgress: (e) => aloneEvents.push(e) }, deps);
      expect(comparable(fused)).toEqual(comparable(alone));
      expect(fused.checkpoints.map((c) => c.sha256)).toEqual(alone.checkpoints.map((c) => c.sha256));
      expect(fused.checkpoints.map((c) => c.name).sort()).toEqual(['best', 'best@2', 'best@4', 'final']);
      expect(comparableEvents(fusedEvents)).toEqual(comparableEvents(aloneEvents));
      expect(fusedEvents.filter((e) => e.kind === 'step').length).toBeGreaterThan(0);
    });

    it('fused - FLNPF and stage k members with different parents gate from their own parent and match their unfused runs', async () => {
      const parents = await unfused([1, 2].map((seed) => spec({ seed, epochs: 3, checkpoints: { best: true, bestAtEpochs: [1, 2] } })));
      const ref = (r: TrialResult, name: string): { path: string; sha256: string } => {
        const c = r.checkpoints.find((x) => x.name === name) as CheckpointInfo;
        return { path: c.path, sha256: c.sha256 };
      };
      const flnpf = parents.map((p, i) => member(spec({ regime: 'flnpf', seed: 21 + i }), ref(p, 'best')));
      const fusedFl = results(await runFusedTrials(flnpf, deps));
      expect(fusedFl.map(comparable)).toEqual((await unfused(flnpf)).map(comparable));
      // Different parents give different gates: the two members (same value-net seed) differ.
      const sameSeed = parents.map((p) => member(spec({ regime: 'flnpf', seed: 30 }), ref(p, 'best')));
      const pair = results(await runFusedTrials(sameSeed, deps));
      expect(pair[0].epochs[0].trainLoss).not.toBe(pair[1].epochs[0].trainLoss);

      // Stage 1 and stage 2 (one ReLU epoch per stage) from different parents, in one stack.
      const stages = [
        member(spec({ regime: 'stage', stage: 1, stageEvery: 1, seed: 40 }), ref(parents[0], 'best@1')),
        member(spec({ regime: 'stage', stage: 2, stageEvery: 1, seed: 41 }), ref(parents[1], 'best@2')),
      ];
      const fusedStages = results(await runFusedTrials(stages, deps));
      expect(fusedStages.map(comparable)).toEqual((await unfused(stages)).map(comparable));

      // Every frozen-gate regime in one stack: own-init, value-init copy, parent checkpoints.
      const mixed = [
        member(spec({ regime: 'frnpf-ii', seed: 50 })),
        member(spec({ regime: 'frnpf-di', seed: 51 })),
        member(spec({ regime: 'stage', stage: 0, seed: 52 })),
        ...flnpf,
        ...stages,
      ];
      const fusedMixed = results(await runFusedTrials(mixed, deps));
      expect(fusedMixed.map(comparable)).toEqual((await unfused(mixed)).map(comparable));
    });

    it("fused - at the paper's size (784-128x5-10, batch 32, XNNPACK's full-size tiles) members still equal their unfused runs", async () => {
      const rng = mulberry32(3);
      const split = (n: number): Split => ({ x: Float32Array.from({ length: n * 784 }, () => rng.next()), labels: Int32Array.from({ length: n }, () => Math.floor(rng.next() * 10)), n });
      const mnistShaped: Dataset = { name: 'mnist', inputShape: [28, 28, 1], numClasses: 10, classNames: [...'0123456789'], train: split(96), test: split(40) };
      const mdeps = { loadDataset: async () => mnistShaped, readEvery: 2 };
      // frnpf-ii: its frozen gates come from the gate cache, computed on all 96 examples at once.
      for (const regime of ['relu', 'dnpfl', 'frnpf-ii'] as const) {
        const specs = [1, 2].map((seed) => spec({ regime, seed, arch: { kind: 'fc', width: 128, depth: 5 }, batchSize: 32, epochs: 2, optimizer: { name: 'adam', lr: 3e-4 * seed } }));
        const fused = results(await runFusedTrials(specs.map((s) => ({ spec: s })), mdeps));
        const alone: TrialResult[] = [];
        for (const s of specs) alone.push(await runTrial(s, {}, mdeps));
        expect(fused.map(comparable), regime).toEqual(alone.map(comparable));
      }
    });

    it('fused - squared loss on a one-output dataset, sign-sqrt2 init without biases', async () => {
      const binary = syntheticBinaryDataset(96, 48);
      const bdeps = { loadDataset: async () => binary, readEvery: 3 };
      const specs = [1, 2].map((seed) => spec({ dataset: { name: 'binary-mnist' }, init: 'sign-sqrt2', optimizer: { name: 'rmsprop', lr: 1e-3 }, seed }));
      const fused = results(await runFusedTrials(specs.map((s) => ({ spec: s })), bdeps));
      const alone: TrialResult[] = [];
      for (const s of specs) alone.push(await runTrial(s, {}, bdeps));
      expect(fused.map(comparable)).toEqual(alone.map(comparable));
    });
  });

  describe(`fused (${backend}) - members leave the stack alone`, () => {
    it('fused - a diverging member ends diverged at its unfused epoch; the others (and their optimiser state) are unaffected', async () => {
      for (const [name, lr] of [
        ['sgd', 0.1],
        ['adam', 1e-2],
        ['rmsprop', 1e-3],
      ] as const) {
        const specs = [
          spec({ seed: 1, optimizer: { name, lr } }),
          spec({ seed: 2, optimizer: { name, lr: 1e30 } }),
          spec({ seed: 3, optimizer: { name, lr: lr / 2 } }),
        ];
        const fused = results(await runFusedTrials(specs.map((s) => ({ spec: s })), deps));
        const alone = await unfused(specs);
        expect(fused[1].status, name).toBe('diverged');
        expect(fused[0].status, name).toBe('succeeded');
        expect(fused.map(comparable), name).toEqual(alone.map(comparable));
      }
    });

    it('fused - frozen gates (cached per member) follow their member when another leaves the stack', async () => {
      for (const regime of ['frnpf-ii', 'frnpf-di'] as const) {
        const specs = [
          spec({ regime, seed: 1, optimizer: { name: 'sgd', lr: 0.05 } }),
          spec({ regime, seed: 2, optimizer: { name: 'sgd', lr: 1e30 } }),
          spec({ regime, seed: 3, optimizer: { name: 'sgd', lr: 0.02 } }),
        ];
        const fused = results(await runFusedTrials(specs.map((s) => ({ spec: s })), deps));
        expect(fused[1].status, regime).toBe('diverged');
        expect(fused.map(comparable), regime).toEqual((await unfused(specs)).map(comparable));
      }
    });

    it("fused - a member cancelled by its signal ends 'cancelled' with the epochs it finished; the others run on unchanged", async () => {
      const specs = [1, 2, 3].map((seed) => spec({ seed, epochs: 5 }));
      const controller = new AbortController();
      const finishedAt: number[] = [];
      const outcomes = await runFusedTrials(
        specs.map((s, i) => ({
          spec: s,
          options: {
            signal: i === 1 ? controller.signal : undefined,
            onProgress: i === 1 ? (e: TrialProgress) => e.kind === 'epoch' && e.record.epoch === 2 && controller.abort() : undefined,
          },
        })),
        { ...deps, onOutcome: (i) => finishedAt.push(i) },
      );
      const fused = results(outcomes);
      expect(fused[1].status).toBe('cancelled');
      expect(fused[1].epochs.map((e) => e.epoch)).toEqual([1, 2]);
      // The cancelled member's outcome is reported first, as soon as it leaves the stack.
      expect(finishedAt[0]).toBe(1);
      const alone = await unfused([specs[0], specs[2]]);
      expect([fused[0], fused[2]].map(comparable)).toEqual(alone.map(comparable));
    });

    it('fused - a member whose parent checkpoint is missing (or not given) fails alone; the stack trains the rest', async () => {
      const [parent] = await unfused([spec({ checkpoints: { best: true } })]);
      const best = parent.checkpoints[0];
      const members = [
        member(spec({ regime: 'flnpf', seed: 1 }), { path: best.path, sha256: best.sha256 }),
        member(spec({ regime: 'flnpf', seed: 2 }), { path: join(tempDir(), 'missing.ckpt'), sha256: best.sha256 }),
        member(spec({ regime: 'flnpf', seed: 3 })),
      ];
      const outcomes = await runFusedTrials(members, deps);
      expect(outcomes[0].ok).toBe(true);
      expect(outcomes[1].ok).toBe(false);
      expect(!outcomes[1].ok && outcomes[1].error).toBeInstanceOf(CheckpointError);
      // No gates at all: refused as runTrial refuses it, naming what is missing.
      expect(!outcomes[2].ok && String(outcomes[2].error)).toMatch(/needs gates/);
      expect(outcomes[0].ok && comparable(outcomes[0].result)).toEqual(comparable((await unfused([members[0]]))[0]));
    });
  });
}

describe('fused - determinism, compatibility and resources', () => {
  it('fused - the same bundle gives the same results twice; no tensor is left behind', async () => {
    const before = tf.memory().numTensors;
    const specs = [
      spec({ regime: 'dnpfl', seed: 1, checkpoints: { best: true } }),
      spec({ regime: 'dnpfl', seed: 2, optimizer: { name: 'adam', lr: 1e30 } }),
      spec({ regime: 'dnpfl', seed: 3, optimizer: { name: 'adam', lr: 3e-3 } }),
    ];
    const a = results(await runFusedTrials(specs.map((s) => ({ spec: s, options: { checkpointDir: tempDir() } })), deps));
    const b = results(await runFusedTrials(specs.map((s) => ({ spec: s, options: { checkpointDir: tempDir() } })), deps));
    expect(a.map(comparable)).toEqual(b.map(comparable));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fused - frozen gates from the cache: the same bundle twice gives the same results and leaves no tensor behind', async () => {
    await initBackend('wasm', false);
    const before = tf.memory().numTensors;
    const specs = [1, 2, 3].map((seed) => spec({ regime: seed === 2 ? 'frnpf-di' : 'frnpf-ii', seed, checkpoints: { best: true } }));
    const a = results(await runFusedTrials(specs.map((s) => ({ spec: s, options: { checkpointDir: tempDir() } })), deps));
    const b = results(await runFusedTrials(specs.map((s) => ({ spec: s, options: { checkpointDir: tempDir() } })), deps));
    expect(a.map(comparable)).toEqual(b.map(comparable));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fused - members that differ in a shared setting are refused with the member and field named', async () => {
    await expect(runFusedTrials([{ spec: spec() }, { spec: spec({ batchSize: 8 }) }], deps)).rejects.toThrow(FusionError);
    await expect(runFusedTrials([{ spec: spec() }, { spec: spec({ batchSize: 8 }) }], deps)).rejects.toThrow(/member 1 .*batchSize/);
    await expect(runFusedTrials([{ spec: spec() }, { spec: spec({ regime: 'dnpfl' }) }], deps)).rejects.toThrow(/regime/);
    await expect(runFusedTrials([{ spec: spec() }, { spec: spec({ optimizer: { name: 'sgd', lr: 0.1 } }) }], deps)).rejects.toThrow(/optimizer/);
    await expect(runFusedTrials([{ spec: spec({ arch: { kind: 'gconv' } }) }], deps)).rejects.toThrow(/gconv/);
  });
});
