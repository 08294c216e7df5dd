import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ListedAdapter } from '../../science/backend/gpu-adapter.js';
import { inventoryFrom, placementEnv, probeGpus, type GpuInventory } from '../../worker/gpu-inventory.js';
import { startWorker } from '../../worker/main.js';
import { FakeCoordinator, lease, tinySpec, waitFor } from './fake-coordinator.js';

function adapter(dawnIndex: number, device: string, software = false): ListedAdapter {
  return {
    vendor: software ? 'mesa' : 'nvidia',
    architecture: software ? 'software' : 'hopper',
    device,
    description: device,
    software,
    dawnName: device,
    backend: 'vulkan',
    dawnIndex,
  };
}

describe('worker - GPU inventory', () => {
  it('worker - offers the hardware adapters it can open by index, never a software one', () => {
    const two = inventoryFrom({ webgpu: { ok: true, adapters: [adapter(0, 'NVIDIA A100'), adapter(1, 'NVIDIA H200'), adapter(2, 'llvmpipe', true)] }, cudaDevices: 2, tensorflowGpu: false });
    expect(two.count).toBe(2);
    expect(two.names).toEqual(['NVIDIA A100 (nvidia, hopper)', 'NVIDIA H200 (nvidia, hopper)']);
    expect(two.webgpu).toBe(true);
    expect(two.note).toMatch(/software adapter\(s\) not offered as GPUs: llvmpipe/);

    const lavapipeOnly = inventoryFrom({ webgpu: { ok: true, adapters: [adapter(0, 'llvmpipe', true)] }, cudaDevices: 0, tensorflowGpu: false });
    expect(lavapipeOnly).toMatchObject({ count: 0, names: [], webgpu: true });

    // Identical GPUs: one per process through Dawn; tfjs-node-gpu, when installed, can use them all.
    const twins = { ok: true as const, adapters: [adapter(0, 'NVIDIA H200'), adapter(1, 'NVIDIA H200')] };
    const webgpuOnly = inventoryFrom({ webgpu: twins, cudaDevices: 2, tensorflowGpu: false });
    expect(webgpuOnly.count).toBe(1);
    expect(webgpuOnly.note).toMatch(/only 1 can be opened one per index.*run one worker per GPU/);
    expect(inventoryFrom({ webgpu: twins, cudaDevices: 2, tensorflowGpu: true }).count).toBe(2);

    const noDawn = inventoryFrom({ webgpu: { ok: false, reason: 'no module' }, cudaDevices: 1, tensorflowGpu: true });
    expect(noDawn).toMatchObject({ count: 1, names: ['CUDA device 0'], webgpu: false });
    expect(noDawn.note).toMatch(/no WebGPU: no module/);
  });

  it('worker - the probe child reports what Dawn lists here (in CI: the software device only)', async () => {
    const inv = await probeGpus(join(import.meta.dirname, '..', '..', 'dist', 'worker', 'gpu-probe-child.js'));
    expect(inv.webgpu).toBe(true);
    expect(inv.note ?? '').not.toMatch(/probe failed|no report/);
    // Every GPU offered is a named hardware adapter or CUDA device.
    expect(inv.names.length).toBeGreaterThanOrEqual(inv.count);
  });

  it('worker - a trial placed on GPU i gets device i for both GPU backends; one placed on none gets none', () => {
    expect(placementEnv(1, 2)).toEqual({ CUDA_VISIBLE_DEVICES: '1', NPF_GPU_INDEX: '1' });
    expect(placementEnv(-1, 2)).toEqual({ CUDA_VISIBLE_DEVICES: '', NPF_GPU_INDEX: '-1' });
    expect(placementEnv(-1, 0)).toEqual({ NPF_GPU_INDEX: '-1' });
  });

  it('worker - a probe that cannot run offers no GPU and says why', async () => {
    const inv = await probeGpus(join(tmpdir(), 'no-such-probe.js'));
    expect(inv).toMatchObject({ count: 0, names: [], webgpu: false });
    expect(inv.note).toMatch(/the GPU probe failed/);
  });
});

describe('worker - GPUs at registration and trial placement', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(resources: { cpu: number; gpu?: number; memoryMb: number }, inventory: GpuInventory, backend?: 'wasm') {
    const fake = await new FakeCoordinator().start();
    cleanups.push(() => fake.stop());
    const workDir = mkdtempSync(join(tmpdir(), 'npf-worker-gpu-test-'));
    cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
    let probed = 0;
    const lines: string[] = [];
    const worker = await startWorker({
      coordinator: fake.address,
      resources,
      concurrency: 2,
      workDir,
      httpListen: null,
      leaseWaitMs: 200,
      backend,
      log: (l) => lines.push(l),
      childEnv: { ...process.env, NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '20' },
      gpuInventory: async () => {
        probed++;
        return inventory;
      },
    });
    cleanups.push(() => worker.stop());
    return { fake, lines, probed: () => probed };
  }

  const twoGpus: GpuInventory = { count: 2, names: ['NVIDIA A100 (nvidia, hopper)', 'NVIDIA H200 (nvidia, hopper)'], webgpu: true };

  it('worker - without --gpus it offers the GPUs found and registers their names and webgpu', async () => {
    const { fake, lines, probed } = await start({ cpu: 2, memoryMb: 1024 }, twoGpus);
    expect(probed()).toBe(1);
    const req = fake.registerRequests[0];
    expect(req.resources?.gpu).toBe(2);
    expect(req.gpuNames).toEqual(twoGpus.names);
    expect(req.backends).toContain('webgpu');
    expect(lines.join('\n')).toMatch(/gpu 2 \(NVIDIA A100 \(nvidia, hopper\), NVIDIA H200/);
  });

  it('worker - --gpus overrides what was found (and nothing is probed)', async () => {
    const { fake, probed } = await start({ cpu: 2, gpu: 1, memoryMb: 1024 }, twoGpus);
    expect(probed()).toBe(0);
    expect(fake.registerRequests[0].resources?.gpu).toBe(1);
  });

  it('worker - a worker pinned to a CPU backend offers no GPU without probing; its trials are placed on none', async () => {
    const { fake, probed } = await start({ cpu: 2, memoryMb: 1024 }, twoGpus, 'wasm');
    expect(probed()).toBe(0);
    expect(fake.registerRequests[0].resources?.gpu).toBe(0);
    expect(fake.registerRequests[0].backends).toEqual(['wasm']);
    fake.queue.push(lease('t-cpu', tinySpec()));
    await waitFor(() => fake.completes.length === 1, 'the result');
    expect(JSON.parse(fake.completes[0].resultJson).backend).toBe('fake');
  });

  it('worker - a trial placed on GPU i runs on device i; a CPU-only trial on a GPU worker gets none', async () => {
    const { fake } = await start({ cpu: 2, memoryMb: 1024 }, twoGpus);
    fake.queue.push(lease('t-gpu1', tinySpec(), { gpuIndex: 1, resources: { cpu: 1, gpu: 1, memoryMb: 0 } }), lease('t-cpu', tinySpec({ seed: 2 })));
    await waitFor(() => fake.completes.length === 2, 'two results');
    const backendOf = (id: string) => JSON.parse(fake.completes.find((c) => c.taskId === id)!.resultJson).backend;
    expect(backendOf('t-gpu1')).toBe('fake@gpu1');
    expect(backendOf('t-cpu')).toBe('fake');
  });
});
