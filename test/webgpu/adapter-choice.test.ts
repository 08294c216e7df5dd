/**
 * The pure side of WebGPU adapters and backend choice: Dawn's listing, hardware vs software,
 * which adapter a GPU index opens, and the order `auto` follows. No Dawn here.
 */
import { describe, expect, it } from 'vitest';
import { chooseBackend, needsWebgpuProbe, type WebgpuProbe } from '../../science/backend/backend-choice.js';
import { addressableCount, isSoftwareAdapter, parseAdapterListing, pickAdapter, type ListedAdapter } from '../../science/backend/gpu-adapter.js';
import { cudaDeviceCount } from '../../science/backend/init-backend.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const lavapipe: ListedAdapter = {
  vendor: 'mesa',
  architecture: 'software',
  device: 'llvmpipe-llvm-15-0-6-256-bits-',
  description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1',
  software: true,
  dawnName: 'llvmpipe (LLVM 15.0.6, 256 bits)',
  backend: 'vulkan',
  dawnIndex: 0,
};

function nvidia(dawnIndex: number, name = 'NVIDIA H200'): ListedAdapter {
  return { vendor: 'nvidia', architecture: 'hopper', device: name, description: `${name} (driver 570)`, software: false, dawnName: name, backend: 'vulkan', dawnIndex };
}

const none = { tensorflow: false, tensorflowGpu: false, cudaDevices: 0 };
const probe = (...adapters: ListedAdapter[]): WebgpuProbe => ({ ok: true, adapters });

describe('webgpu - adapters as data', () => {
  it("webgpu - Dawn's adapter listing is parsed from its rejection message", () => {
    const msg = "no suitable backends found\nAvailable adapters:\n * backend: 'vulkan', name: 'NVIDIA H200'\n * backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)'";
    expect(parseAdapterListing(msg)).toEqual([
      { backend: 'vulkan', name: 'NVIDIA H200' },
      { backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)' },
    ]);
    expect(parseAdapterListing('unrecognised backend')).toEqual([]);
  });

  it('webgpu - software adapters are told apart by fallback flag, architecture or name', () => {
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', device: 'x', description: 'y' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15)', description: '' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', architecture: '', device: 'SwiftShader Device', description: '' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: '', architecture: '', device: 'z', description: '', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: 'NVIDIA H200' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'amd', architecture: 'rdna-3', device: 'AMD Radeon RX 7900 XTX (RADV NAVI31)', description: 'radv' })).toBe(false);
  });

  it("webgpu - GPU index i opens adapter i by name, unless an earlier adapter's name contains its name", () => {
    expect(pickAdapter(['NVIDIA A100', 'NVIDIA H200'], 1)).toEqual({ kind: 'name', name: 'NVIDIA H200' });
    expect(pickAdapter(['NVIDIA H200', 'NVIDIA H200'], 1)).toEqual({ kind: 'ambiguous', name: 'NVIDIA H200', shadowedBy: 0 });
    expect(pickAdapter(['NVIDIA H200'], 1)).toEqual({ kind: 'out-of-range', count: 1 });
    expect(addressableCount([nvidia(0), nvidia(1), lavapipe])).toBe(1);
    expect(addressableCount([nvidia(0, 'NVIDIA A100'), nvidia(1), { ...lavapipe, dawnIndex: 2 }])).toBe(2);
    expect(addressableCount([lavapipe])).toBe(0);
  });

  it('webgpu - CUDA devices are the /dev/nvidiaN files, less what CUDA_VISIBLE_DEVICES hides', () => {
    const dev = mkdtempSync(join(tmpdir(), 'npf-dev-'));
    for (const f of ['nvidia0', 'nvidia1', 'nvidiactl', 'nvidia-uvm']) writeFileSync(join(dev, f), '');
    expect(cudaDeviceCount({}, dev)).toBe(2);
    expect(cudaDeviceCount({ CUDA_VISIBLE_DEVICES: '1' }, dev)).toBe(1);
    expect(cudaDeviceCount({ CUDA_VISIBLE_DEVICES: '' }, dev)).toBe(0);
    expect(cudaDeviceCount({ CUDA_VISIBLE_DEVICES: '-1' }, dev)).toBe(0);
    expect(cudaDeviceCount({}, join(dev, 'absent'))).toBe(0);
  });
});

describe('webgpu - backend choice', () => {
  it('webgpu - auto: tensorflow-gpu with a CUDA device, then webgpu on hardware, then tensorflow, then wasm', () => {
    const gpuBox = probe(nvidia(0), { ...lavapipe, dawnIndex: 1 });
    expect(chooseBackend('auto', true, { tensorflow: true, tensorflowGpu: true, cudaDevices: 1 }, gpuBox)).toEqual({ ok: true, choice: { backend: 'tensorflow-gpu' } });
    expect(needsWebgpuProbe('auto', { tensorflow: true, tensorflowGpu: true, cudaDevices: 1 })).toBe(false);
    const web = chooseBackend('auto', true, { tensorflow: true, tensorflowGpu: true, cudaDevices: 0 }, gpuBox);
    expect(web.ok && web.choice.backend).toBe('webgpu');
    expect(web.ok && web.choice.adapter?.device).toBe('NVIDIA H200');
    expect(chooseBackend('auto', false, { ...none, tensorflow: true }, probe())).toEqual({ ok: true, choice: { backend: 'tensorflow' } });
    const gpuPkgOnly = chooseBackend('auto', false, { ...none, tensorflowGpu: true }, probe());
    expect(gpuPkgOnly.ok && gpuPkgOnly.choice).toEqual({ backend: 'tensorflow-gpu', note: 'no CUDA device found: TensorFlow runs on its CPU kernels' });
    expect(chooseBackend('auto', false, none, { ok: false, reason: 'no module' })).toEqual({ ok: true, choice: { backend: 'wasm' } });
  });

  it('webgpu - auto never takes a software adapter and says it skipped one; webgpu by name does, with a note', () => {
    const auto = chooseBackend('auto', false, none, probe(lavapipe));
    expect(auto.ok && auto.choice.backend).toBe('wasm');
    expect(auto.ok && auto.choice.note).toMatch(/only software adapters \(llvmpipe: Mesa/);
    const named = chooseBackend('webgpu', false, none, probe(lavapipe));
    expect(named.ok && named.choice.backend).toBe('webgpu');
    expect(named.ok && named.choice.adapter?.software).toBe(true);
    expect(named.ok && named.choice.note).toMatch(/software WebGPU adapter/);
    // With a hardware adapter present, webgpu by name uses it, not the software one.
    const both = chooseBackend('webgpu', false, none, probe({ ...lavapipe, dawnIndex: 0 }, nvidia(1)));
    expect(both.ok && both.choice.adapter?.device).toBe('NVIDIA H200');
  });

  it('webgpu - GPU index i is hardware adapter i; an unreachable or missing index is refused with the reason', () => {
    const two = probe(nvidia(0, 'NVIDIA A100'), nvidia(1));
    const second = chooseBackend('webgpu', false, none, two, 1);
    expect(second.ok && second.choice.adapter?.dawnIndex).toBe(1);
    const twins = chooseBackend('webgpu', false, none, probe(nvidia(0), nvidia(1)), 1);
    expect(!twins.ok && twins.reason).toMatch(/identical GPUs are reachable one per process; run one worker per GPU/);
    const missing = chooseBackend('webgpu', false, none, two, 2);
    expect(!missing.ok && missing.reason).toMatch(/GPU index 2 was asked for, but Dawn lists 2 usable adapter/);
    // auto falls back rather than failing.
    const autoTwins = chooseBackend('auto', false, none, probe(nvidia(0), nvidia(1)), 1);
    expect(autoTwins.ok && autoTwins.choice.backend).toBe('wasm');
    // A trial placed on no GPU (-1) does not take one under auto, nor probes for one.
    expect(needsWebgpuProbe('auto', none, -1)).toBe(false);
    expect(chooseBackend('auto', false, none, two, -1)).toEqual({ ok: true, choice: { backend: 'wasm' } });
  });

  it('webgpu - asked for with no adapter: says what was looked for and how to get one', () => {
    for (const p of [probe(), { ok: false as const, reason: "the npm package 'webgpu' (Dawn) failed to load" }]) {
      const d = chooseBackend('webgpu', false, none, p);
      expect(d.ok).toBe(false);
      const reason = !d.ok ? d.reason : '';
      expect(reason).toMatch(/needs a WebGPU adapter/);
      expect(reason).toMatch(/Vulkan/);
      expect(reason).toMatch(/NVIDIA_DRIVER_CAPABILITIES must include graphics/);
      expect(reason).toMatch(/bookworm-backports mesa-vulkan-drivers/);
      expect(reason).toMatch(/XDG_RUNTIME_DIR/);
    }
  });
});
