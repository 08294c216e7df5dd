/**
 * The science core on the webgpu backend (in CI: Mesa's lavapipe, a software Vulkan device, so
 * shapes are tiny): a short training run per regime and architecture, each matched against the
 * same trial on wasm; determinism; checkpoints written on one backend and read on the other;
 * the kernel measurements; a lost device; and what `auto` does with a software adapter.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceLostError } from '../../science/backend/errors.js';
import { initBackend } from '../../science/backend/init-backend.js';
import { activeWebgpuDevice, probeWebgpu } from '../../science/backend/webgpu-device.js';
import type { Dataset, Split } from '../../science/datasets/dataset.js';
import { mulberry32 } from '../../science/models/prng.js';
import { runTrial } from '../../science/run-trial.js';
import { resolveTrialSpec } from '../../science/trial-spec.js';
import type { CheckpointRef, TrialResult, TrialSpec } from '../../science/types.js';
import { isRetryable } from '../../worker/failure.js';
import { syntheticBinaryDataset, syntheticDataset } from '../train/synthetic-data.js';
import { requireWebgpuAdapter } from './webgpu-available.js';

beforeAll(async () => {
  await requireWebgpuAdapter();
});

/** CIFAR-shaped in miniature: side x side x 3 images, 3 classes from a fixed linear map. */
function tinyImages(n: number, seed: number, side: number): Split {
  const rng = mulberry32(seed);
  const size = side * side * 3;
  const x = new Float32Array(n * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const scores = [0, 0, 0];
    for (let j = 0; j < size; j++) {
      const v = rng.next();
      x[i * size + j] = v;
      for (let c = 0; c < 3; c++) scores[c] += v * Math.cos(j * (c + 2));
    }
    labels[i] = scores.indexOf(Math.max(...scores));
  }
  return { x, labels, n };
}

const imageData: Dataset = {
  name: 'cifar10',
  inputShape: [4, 4, 3],
  numClasses: 3,
  classNames: ['0', '1', '2'],
  train: tinyImages(16, 21, 4),
  test: tinyImages(8, 22, 4),
};
const denseData = syntheticDataset(32, 16);

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'npf-webgpu-test-'));

function spec(over: Record<string, unknown>): TrialSpec {
  return resolveTrialSpec({
    dataset: { name: 'mnist' },
    arch: { kind: 'fc', width: 8, depth: 2 },
    regime: 'relu',
    optimizer: { name: 'adam', lr: 1e-2 },
    epochs: 1,
    batchSize: 8,
    seed: 3,
    backend: 'webgpu',
    ...over,
  });
}

const losses = (r: TrialResult): number[] => r.epochs.flatMap((e) => [e.trainLoss, e.testLoss]);

function expectClose(a: TrialResult, b: TrialResult, tol = 1e-3): void {
  expect(a.status).toBe('succeeded');
  expect(b.status).toBe('succeeded');
  const [x, y] = [losses(a), losses(b)];
  expect(x.length).toBe(y.length);
  x.forEach((v, i) => {
    expect(Number.isFinite(v)).toBe(true);
    expect(Math.abs(v - y[i])).toBeLessThan(tol * Math.max(1, Math.abs(y[i])));
  });
  expect(a.epochs.map((e) => e.testAccuracy)).toEqual(b.epochs.map((e) => e.testAccuracy));
}

/** The same trial on webgpu and on wasm. */
async function onBoth(s: TrialSpec, data: Dataset, gates?: CheckpointRef): Promise<[TrialResult, TrialResult]> {
  const deps = { loadDataset: async () => data, readEvery: 1 };
  const gpu = await runTrial({ ...s, backend: 'webgpu' }, { checkpointDir: tempDir(), gates }, deps);
  const cpu = await runTrial({ ...s, backend: 'wasm' }, { checkpointDir: tempDir(), gates }, deps);
  expect(gpu.backend).toBe('webgpu');
  expect(gpu.adapter?.description).toBeTruthy();
  expect(cpu.backend).toBe('wasm');
  expect(cpu.adapter).toBeUndefined();
  return [gpu, cpu];
}

describe('webgpu - training matches wasm in every regime', () => {
  it('webgpu - FC: relu (writing checkpoints), frnpf-ii, frnpf-di, dnpfl, then flnpf and stages from the webgpu checkpoint', async () => {
    const [relu, reluWasm] = await onBoth(spec({ regime: 'relu', epochs: 2, checkpoints: { best: true, bestAtEpochs: [1], final: true } }), denseData);
    expectClose(relu, reluWasm);
    // Same weights on both backends, so the same checkpoint bytes.
    expect(relu.checkpoints.map((c) => c.name)).toEqual(['best@1', 'best', 'final']);
    for (const regime of ['frnpf-ii', 'frnpf-di', 'dnpfl'] as const) {
      const [gpu, cpu] = await onBoth(spec({ regime }), denseData);
      expectClose(gpu, cpu);
    }
    const best = relu.checkpoints.find((c) => c.name === 'best')!;
    const [fl, flWasm] = await onBoth(spec({ regime: 'flnpf' }), denseData, { path: best.path, sha256: best.sha256 });
    expectClose(fl, flWasm);
    const at1 = relu.checkpoints.find((c) => c.name === 'best@1')!;
    const [st, stWasm] = await onBoth(spec({ regime: 'stage', stage: 1, stageEvery: 1 }), denseData, { path: at1.path, sha256: at1.sha256 });
    expectClose(st, stWasm);
    const [st0, st0Wasm] = await onBoth(spec({ regime: 'stage', stage: 0 }), denseData);
    expectClose(st0, st0Wasm);
  });

  it('webgpu - GCONV (conv layers, global average pooling) in relu, dnpfl and flnpf', async () => {
    const base = { dataset: { name: 'cifar10' }, arch: { kind: 'gconv' }, batchSize: 8 };
    const [relu, reluWasm] = await onBoth(spec({ ...base, regime: 'relu', checkpoints: { best: true } }), imageData);
    expectClose(relu, reluWasm);
    const [dn, dnWasm] = await onBoth(spec({ ...base, regime: 'dnpfl' }), imageData);
    expectClose(dn, dnWasm);
    const best = relu.checkpoints[0];
    const [fl, flWasm] = await onBoth(spec({ ...base, regime: 'flnpf' }), imageData, { path: best.path, sha256: best.sha256 });
    expectClose(fl, flWasm);
  });

  it('webgpu - VCONV (conv layers, flatten) in frnpf-di, with SGD', async () => {
    const s = spec({ dataset: { name: 'cifar10' }, arch: { kind: 'vconv' }, regime: 'frnpf-di', optimizer: { name: 'sgd', lr: 0.05 } });
    const [gpu, cpu] = await onBoth(s, imageData);
    expectClose(gpu, cpu);
  });
});

describe('webgpu - determinism and checkpoints across backends', () => {
  it('webgpu - same spec, seed and backend give the same result and the same checkpoint bytes', async () => {
    const deps = { loadDataset: async () => denseData, readEvery: 2 };
    const s = spec({ regime: 'dnpfl', epochs: 2, checkpoints: { final: true } });
    const a = await runTrial(s, { checkpointDir: tempDir() }, deps);
    const b = await runTrial(s, { checkpointDir: tempDir() }, deps);
    expect(losses(a)).toEqual(losses(b));
    expect(a.checkpoints[0].sha256).toBe(b.checkpoints[0].sha256);
    const c = await runTrial({ ...s, seed: 4 }, { checkpointDir: tempDir() }, deps);
    expect(losses(c)).not.toEqual(losses(a));
  });

  it('webgpu - a wasm checkpoint gates a webgpu trial and a webgpu checkpoint gates a wasm trial, alike', async () => {
    const deps = { loadDataset: async () => denseData, readEvery: 4 };
    const parent = spec({ regime: 'relu', epochs: 2, checkpoints: { best: true } });
    const fromWasm = (await runTrial({ ...parent, backend: 'wasm' }, { checkpointDir: tempDir() }, deps)).checkpoints[0];
    const fromGpu = (await runTrial(parent, { checkpointDir: tempDir() }, deps)).checkpoints[0];
    // The weights agree to float rounding; the files differ only by it.
    const flnpf = (from: typeof fromWasm, backend: 'webgpu' | 'wasm') =>
      runTrial(spec({ regime: 'flnpf', backend }), { checkpointDir: tempDir(), gates: { path: from.path, sha256: from.sha256 } }, deps);
    const wasmOnGpu = await flnpf(fromWasm, 'webgpu');
    const wasmOnWasm = await flnpf(fromWasm, 'wasm');
    const gpuOnWasm = await flnpf(fromGpu, 'wasm');
    const gpuOnGpu = await flnpf(fromGpu, 'webgpu');
    expectClose(wasmOnGpu, wasmOnWasm);
    expectClose(gpuOnWasm, gpuOnGpu);
    expectClose(wasmOnGpu, gpuOnGpu);
  });
});

describe('webgpu - kernel measurements', () => {
  it('webgpu - nu_t of the NPK and the NTK split match wasm', async () => {
    const binary = syntheticBinaryDataset(32, 16);
    const nu = spec({ dataset: { name: 'binary-mnist' }, regime: 'relu', measure: { npk: { every: 1, examplesPerClass: 4 } } });
    const [nuGpu, nuCpu] = await onBoth(nu, binary);
    expect(nuGpu.npk!.map((p) => p.epoch)).toEqual([0, 1]);
    nuGpu.npk!.forEach((p, i) => {
      const want = nuCpu.npk![i];
      expect(p.method).toBe(want.method);
      if (want.nu === null) expect(p.nu).toBeNull();
      else expect(Math.abs(p.nu! - want.nu)).toBeLessThan(1e-3 * Math.abs(want.nu));
    });
    const ntk = spec({ regime: 'dnpfl', measure: { ntkSplit: { every: 1, examplesPerClass: 2 } } });
    const [ntkGpu, ntkCpu] = await onBoth(ntk, denseData);
    expect(ntkGpu.ntkSplit).toHaveLength(2);
    ntkGpu.ntkSplit!.forEach((p, i) => {
      const q = ntkCpu.ntkSplit![i];
      expect(p.featureTrace).toBeGreaterThan(0);
      expect(Math.abs(p.valueTrace - q.valueTrace)).toBeLessThan(1e-3 * q.valueTrace);
      expect(Math.abs(p.featureTrace - q.featureTrace)).toBeLessThan(1e-3 * q.featureTrace);
    });
  });
});

describe('webgpu - devices', () => {
  it('webgpu - a device lost mid-trial fails the attempt with a retryable DeviceLostError; the next trial opens a fresh device', async () => {
    const deps = { loadDataset: async () => denseData, readEvery: 1 };
    const s = spec({ regime: 'relu', epochs: 3 });
    let lostOne: GPUDevice | undefined;
    const attempt = runTrial(s, {
      onProgress: (e) => {
        if (e.kind === 'epoch' && e.record.epoch === 1) {
          lostOne = activeWebgpuDevice();
          lostOne?.destroy();
        }
      },
    }, deps);
    const err = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeviceLostError);
    expect((err as DeviceLostError).code).toBe('DEVICE_LOST');
    expect(isRetryable(err)).toBe(true);
    expect((err as Error).message).toMatch(/was lost/);
    const again = await runTrial({ ...s, epochs: 1 }, {}, deps);
    expect(again.status).toBe('succeeded');
    expect(activeWebgpuDevice()).not.toBe(lostOne);
  });

  it("webgpu - 'auto' never picks a software adapter; asking for webgpu by name does, and the result says so", async () => {
    const probe = await probeWebgpu();
    expect(probe.ok).toBe(true);
    const software = probe.ok && probe.adapters.every((a) => a.software);
    if (software) {
      const choice = await initBackend('auto', false, { installed: { tensorflow: false, tensorflowGpu: false, cudaDevices: 0 } });
      expect(choice.backend).toBe('wasm');
      expect(choice.note).toMatch(/software/);
      const named = await initBackend('webgpu', false);
      expect(named.backend).toBe('webgpu');
      expect(named.adapter?.software).toBe(true);
      expect(named.note).toMatch(/software/);
    } else {
      // On a machine with a GPU, auto takes it.
      const choice = await initBackend('auto', false, { installed: { tensorflow: false, tensorflowGpu: false, cudaDevices: 0 } });
      expect(choice.backend).toBe('webgpu');
      expect(choice.adapter?.software).toBe(false);
    }
    expect(tf.getBackend()).toBe('webgpu');
  });
});
