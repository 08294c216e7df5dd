/**
 * Fused trials on the webgpu backend (in CI: Mesa's lavapipe, so shapes are tiny): each member of
 * a stack follows its unfused webgpu run to float tolerance in every regime, FLNPF and stage
 * members with different parents included; K = 1 likewise; the same bundle twice gives the same
 * results; the stack opens its placement's GPU index; a lost device fails the members still in
 * the stack with a retryable DeviceLostError.
 *
 * Why tolerance and not bits (as on wasm, test/fused/): the stack's products are the stock
 * batched matMul, and tfjs-backend-webgpu picks its matMul shader by the output's size, batch
 * included: an output of at most 128 elements (all these shapes, one member) gets a parallel
 * reduction over the shared dimension, a larger one (the same product for 3 members) a tiled
 * loop, which adds the same products in another order. Measured here: K = 1 equals the unfused
 * run exactly at these shapes, K = 3 differs by 1-2 float32 ulps of a loss. The elementwise
 * kernels and the optimiser compute the same float32 operations.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceLostError } from '../../science/backend/errors.js';
import { activeWebgpuDevice } from '../../science/backend/webgpu-device.js';
import { runFusedTrials, type FusedOutcome, type FusedTrialInput } from '../../science/fused/run-fused-trials.js';
import { runTrial } from '../../science/run-trial.js';
import { resolveTrialSpec } from '../../science/trial-spec.js';
import type { CheckpointRef, TrialResult, TrialSpec } from '../../science/types.js';
import { isRetryable } from '../../worker/failure.js';
import { syntheticDataset } from '../train/synthetic-data.js';
import { requireWebgpuAdapter } from './webgpu-available.js';

beforeAll(async () => {
  await requireWebgpuAdapter();
});

const data = syntheticDataset(48, 16);
const deps = { loadDataset: async () => data, readEvery: 2 };
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'npf-fused-webgpu-test-'));

function spec(over: Record<string, unknown> = {}): TrialSpec {
  return resolveTrialSpec({
    dataset: { name: 'mnist' },
    arch: { kind: 'fc', width: 8, depth: 2 },
    regime: 'relu',
    optimizer: { name: 'adam', lr: 1e-2 },
    epochs: 2,
    batchSize: 8,
    seed: 3,
    backend: 'webgpu',
    ...over,
  });
}

function results(outcomes: FusedOutcome[]): TrialResult[] {
  return outcomes.map((o, i) => {
    if (!o.ok) throw new Error(`member ${i} failed: ${String(o.error)}`);
    return o.result;
  });
}

/** Each member alone with runTrial, on the same backend. */
async function unfused(members: FusedTrialInput[]): Promise<TrialResult[]> {
  const out: TrialResult[] = [];
  for (const m of members) out.push(await runTrial(m.spec, { ...m.options, checkpointDir: tempDir() }, deps));
  return out;
}

const curve = (r: TrialResult): number[] => r.epochs.flatMap((e) => [e.trainLoss, e.testLoss]);

/** A fused member against its unfused run: same status, epochs and accuracies; losses to float tolerance. */
function expectSameRun(fused: TrialResult, alone: TrialResult, what: string, tol = 1e-4): void {
  expect(fused.status, what).toBe('succeeded');
  expect(alone.status, what).toBe('succeeded');
  expect(fused.backend, what).toBe('webgpu');
  expect(fused.adapter, what).toEqual(alone.adapter);
  const [x, y] = [curve(fused), curve(alone)];
  expect(x.length, what).toBe(y.length);
  x.forEach((v, i) => {
    expect(Number.isFinite(v), what).toBe(true);
    expect(Math.abs(v - y[i]), `${what}: loss ${i} ${v} vs ${y[i]}`).toBeLessThan(tol * Math.max(1, Math.abs(y[i])));
  });
  expect(fused.epochs.map((e) => e.testAccuracy), what).toEqual(alone.epochs.map((e) => e.testAccuracy));
  expect(fused.bestEpoch, what).toBe(alone.bestEpoch);
  expect(fused.checkpoints.map((c) => [c.name, c.epoch]), what).toEqual(alone.checkpoints.map((c) => [c.name, c.epoch]));
}

describe('fused on webgpu - a member is its unfused trial to float tolerance', () => {
  it('fused webgpu - relu, frnpf-ii, frnpf-di, dnpfl (Adam; SGD for dnpfl): three members with different seeds and step sizes each follow their unfused run', async () => {
    const cases: Array<[TrialSpec['regime'], 'adam' | 'sgd', number[]]> = [
      ['relu', 'adam', [1e-2, 3e-3, 2e-2]],
      ['frnpf-ii', 'adam', [1e-2, 3e-3, 2e-2]],
      ['frnpf-di', 'adam', [1e-2, 3e-3, 2e-2]],
      ['dnpfl', 'adam', [1e-2, 3e-3, 2e-2]],
      ['dnpfl', 'sgd', [0.1, 0.03, 0.2]],
    ];
    for (const [regime, name, lrs] of cases) {
      const members = lrs.map((lr, i) => ({ spec: spec({ regime, seed: 11 + i, optimizer: { name, lr } }), options: { checkpointDir: tempDir() } }));
      const fused = results(await runFusedTrials(members, deps));
      const alone = await unfused(members);
      fused.forEach((r, i) => expectSameRun(r, alone[i], `${regime} ${name} member ${i}`));
      expect(curve(fused[0])).not.toEqual(curve(fused[1]));
    }
  });

  it('fused webgpu - K = 1 follows the unfused run, checkpoints included; FLNPF and stage members with different parents', async () => {
    const parentSpec = spec({ epochs: 2, checkpoints: { best: true, bestAtEpochs: [1], final: true } });
    const [k1] = results(await runFusedTrials([{ spec: parentSpec, options: { checkpointDir: tempDir() } }], deps));
    const [parentAlone] = await unfused([{ spec: parentSpec }]);
    expectSameRun(k1, parentAlone, 'K = 1');
    expect(k1.checkpoints.map((c) => c.name)).toEqual(['best@1', 'best', 'final']);

    // Two ReLU parents (the fused one and the unfused one, different files), gating an FLNPF stack
    // and a stage-1 stack.
    const ref = (r: TrialResult, name: string): CheckpointRef => {
      const c = r.checkpoints.find((x) => x.name === name)!;
      return { path: c.path, sha256: c.sha256 };
    };
    const otherParent = (await runTrial(spec({ seed: 9, checkpoints: { best: true, bestAtEpochs: [1] } }), { checkpointDir: tempDir() }, deps));
    const flnpf: FusedTrialInput[] = [
      { spec: spec({ regime: 'flnpf', seed: 21 }), options: { gates: ref(k1, 'best') } },
      { spec: spec({ regime: 'flnpf', seed: 22, optimizer: { name: 'adam', lr: 3e-3 } }), options: { gates: ref(otherParent, 'best') } },
    ];
    const fusedFl = results(await runFusedTrials(flnpf, deps));
    const aloneFl = await unfused(flnpf);
    fusedFl.forEach((r, i) => expectSameRun(r, aloneFl[i], `flnpf member ${i}`));

    const stages: FusedTrialInput[] = [
      { spec: spec({ regime: 'stage', stage: 1, stageEvery: 1, seed: 31 }), options: { gates: ref(k1, 'best@1') } },
      { spec: spec({ regime: 'stage', stage: 1, stageEvery: 1, seed: 32 }), options: { gates: ref(otherParent, 'best@1') } },
    ];
    const fusedSt = results(await runFusedTrials(stages, deps));
    const aloneSt = await unfused(stages);
    fusedSt.forEach((r, i) => expectSameRun(r, aloneSt[i], `stage member ${i}`));
  });

  it('fused webgpu - the same bundle twice gives the same results and checkpoint bytes', async () => {
    const members = () => [1e-2, 2e-2].map((lr, i) => ({ spec: spec({ regime: 'dnpfl', seed: 41 + i, optimizer: { name: 'adam', lr }, checkpoints: { final: true } }), options: { checkpointDir: tempDir() } }));
    const a = results(await runFusedTrials(members(), deps));
    const b = results(await runFusedTrials(members(), deps));
    expect(a.map(curve)).toEqual(b.map(curve));
    expect(a.map((r) => r.checkpoints[0].sha256)).toEqual(b.map((r) => r.checkpoints[0].sha256));
  });
});

describe('fused on webgpu - devices', () => {
  it("fused webgpu - the stack runs on its placement's GPU index (the first member's gpuIndex): an index Dawn does not list is refused for the whole stack", async () => {
    const members = [0, 1].map((i) => ({ spec: spec({ seed: 61 + i }), options: { gpuIndex: 7 } }));
    await expect(runFusedTrials(members, deps)).rejects.toThrow(/GPU index 7 was asked for/);
    const [ok] = results(await runFusedTrials([{ spec: spec({ epochs: 1 }), options: { gpuIndex: 0 } }], deps));
    expect(ok.status).toBe('succeeded');
  });

  it('fused webgpu - a device lost mid-stack fails the run with a retryable DeviceLostError and reports no member as cancelled; the next stack opens a fresh device', async () => {
    const members = [0, 1].map((i) => ({
      spec: spec({ seed: 51 + i, epochs: 3 }),
      options: {
        onProgress: (e: { kind: string; record?: { epoch: number } }) => {
          if (i === 0 && e.kind === 'epoch' && e.record?.epoch === 1) activeWebgpuDevice()?.destroy();
        },
      },
    })) as FusedTrialInput[];
    const lostDevice = activeWebgpuDevice();
    const settled: FusedOutcome[] = [];
    const err = await runFusedTrials(members, { ...deps, onOutcome: (_, o) => settled.push(o) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeviceLostError);
    expect(isRetryable(err)).toBe(true);
    expect(settled).toEqual([]);
    const again = results(await runFusedTrials([{ spec: spec({ epochs: 1 }) }], deps));
    expect(again[0].status).toBe('succeeded');
    expect(activeWebgpuDevice()).not.toBe(lostDevice);
  });
});
