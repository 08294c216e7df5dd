import { describe, expect, it } from 'vitest';
import { chooseBackend } from '../../science/backend/backend-choice.js';
import { initBackend, installedBackends } from '../../science/backend/init-backend.js';
import { BackendUnavailableError } from '../../science/backend/errors.js';
import { runTrial } from '../../science/run-trial.js';
import { resolveTrialSpec } from '../../science/trial-spec.js';
import { syntheticDataset } from './synthetic-data.js';
import { blasPresence } from '../../science/backend/blas.js';

const none = { tensorflow: false, tensorflowGpu: false, cudaDevices: 0 };

describe('train - backend choice', () => {
  it('train - auto: wasm for dense and conv (with a note for conv), tfjs-node when installed', () => {
    expect(chooseBackend('auto', false, none)).toEqual({ ok: true, choice: { backend: 'wasm' } });
    const conv = chooseBackend('auto', true, none);
    expect(conv.ok && conv.choice.backend).toBe('wasm');
    expect(conv.ok && conv.choice.note).toMatch(/Conv2DBackpropFilter/);
    expect(chooseBackend('auto', true, { tensorflow: true, tensorflowGpu: false, cudaDevices: 0 })).toEqual({ ok: true, choice: { backend: 'tensorflow' } });
    expect(chooseBackend('auto', false, { tensorflow: true, tensorflowGpu: true, cudaDevices: 1 })).toEqual({ ok: true, choice: { backend: 'tensorflow-gpu' } });
  });

  it('train - explicit requests are honoured or refused with how to fix it', () => {
    const tfMissing = chooseBackend('tensorflow', false, none);
    expect(!tfMissing.ok && tfMissing.reason).toMatch(/npm install @tensorflow\/tfjs-node/);
    expect(chooseBackend('cpu', false, none)).toEqual({ ok: true, choice: { backend: 'cpu' } });
    const gpuMissing = chooseBackend('tensorflow-gpu', true, none);
    expect(!gpuMissing.ok && gpuMissing.reason).toMatch(/tfjs-node-gpu/);
  });

  it("train - asking for 'tensorflow' where tfjs-node is absent is a BackendUnavailableError", async () => {
    if (installedBackends().tensorflow) return; // only meaningful where it is absent (this repo's CI)
    await expect(initBackend('tensorflow', false)).rejects.toThrow(BackendUnavailableError);
    await expect(initBackend('tensorflow', false)).rejects.toThrow(/install/);
  });

  it('train - a conv trial under auto trains on the wasm backend (with OpenBLAS products where found) and records how', async () => {
    if (installedBackends().tensorflow || installedBackends().tensorflowGpu) return;
    const spec = resolveTrialSpec({
      dataset: { name: 'cifar10' },
      arch: { kind: 'gconv' },
      regime: 'dnpfl',
      optimizer: { name: 'adam', lr: 1e-3 },
      epochs: 1,
      batchSize: 8,
      seed: 1,
    });
    const r = await runTrial(spec, {}, { loadDataset: async () => syntheticDataset(16, 8) });
    expect(r.status).toBe('succeeded');
    expect(r.backend).toBe(blasPresence().ok ? 'wasm-blas' : 'wasm');
    expect(r.backendNote).toMatch(/conv gradient/);
    if (blasPresence().ok) expect(r.backendNote).toMatch(/products on .*libopenblas/);
    expect(Number.isFinite(r.epochs[0].trainLoss)).toBe(true);
  });
});
