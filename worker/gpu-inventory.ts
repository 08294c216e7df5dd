/**
 * The GPUs a worker offers the coordinator when `--gpus` is not given: its hardware WebGPU
 * adapters that a trial can open by index, or its CUDA devices when tfjs-node-gpu is installed,
 * whichever is more. Software adapters (lavapipe) are never offered as GPUs. The adapters are
 * listed in a short child process (gpu-probe-child.ts), so the worker itself never loads Dawn
 * or a Vulkan driver, and a driver that hangs or crashes cannot take the worker with it.
 */
import { execFile } from 'node:child_process';
import { describeError } from '../common/errors.js';
import type { WebgpuProbe } from '../science/backend/backend-choice.js';
import { addressableCount, describeAdapter } from '../science/backend/gpu-adapter.js';

export interface GpuInventory {
  /** GPUs offered: trials placed on GPU index i < count run on device i. */
  count: number;
  /** Names of the hardware GPUs found, in GPU-index order (may be more than `count`). */
  names: string[];
  /** Dawn found an adapter (hardware or software): trials asking for 'webgpu' can run here. */
  webgpu: boolean;
  /** Why fewer GPUs are offered than found, or what went wrong looking. */
  note?: string;
}

/** What the probe child prints: the adapter list and what CUDA would see. */
export interface GpuProbeReport {
  webgpu: WebgpuProbe;
  cudaDevices: number;
  tensorflowGpu: boolean;
}

/** Pure: the offer from a probe report. */
export function inventoryFrom(report: GpuProbeReport): GpuInventory {
  const adapters = report.webgpu.ok ? report.webgpu.adapters : [];
  const hardware = adapters.filter((a) => !a.software);
  const webgpuGpus = addressableCount(adapters);
  const cudaGpus = report.tensorflowGpu ? report.cudaDevices : 0;
  const count = Math.max(webgpuGpus, cudaGpus);
  const names = hardware.map(describeAdapter);
  for (let i = names.length; i < cudaGpus; i++) names.push(`CUDA device ${i}`);
  const notes: string[] = [];
  if (!report.webgpu.ok) notes.push(`no WebGPU: ${report.webgpu.reason}`);
  if (hardware.length > webgpuGpus && cudaGpus < hardware.length) {
    notes.push(
      `${hardware.length} hardware adapters but only ${webgpuGpus} can be opened one per index (Dawn selects by name and identical names shadow each other): run one worker per GPU`,
    );
  }
  const software = adapters.filter((a) => a.software);
  if (software.length > 0) notes.push(`software adapter(s) not offered as GPUs: ${software.map(describeAdapter).join('; ')}`);
  return { count, names, webgpu: adapters.length > 0, ...(notes.length ? { note: notes.join('; ') } : {}) };
}

/** Run the probe child (`node <script>`) and read its report; never throws. */
export function probeGpus(script: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<GpuInventory> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { env, timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) return resolve({ count: 0, names: [], webgpu: false, note: `the GPU probe failed: ${describeError(err).split('\n')[0]}` });
      try {
        resolve(inventoryFrom(JSON.parse(stdout) as GpuProbeReport));
      } catch (e) {
        resolve({ count: 0, names: [], webgpu: false, note: `the GPU probe printed no report: ${describeError(e)}` });
      }
    });
  });
}

/**
 * The environment that puts a trial child on the device it was placed on: tfjs-node-gpu reads
 * CUDA_VISIBLE_DEVICES, webgpu reads NPF_GPU_INDEX (trial-child.ts). A trial given no GPU
 * (gpuIndex < 0) gets NPF_GPU_INDEX=-1, so `auto` neither takes a GPU nor spends time listing
 * adapters; on a worker that offers GPUs, CUDA hides its devices from it too.
 */
export function placementEnv(gpuIndex: number, workerGpus: number): Record<string, string> {
  if (gpuIndex >= 0) return { CUDA_VISIBLE_DEVICES: String(gpuIndex), NPF_GPU_INDEX: String(gpuIndex) };
  return workerGpus > 0 ? { CUDA_VISIBLE_DEVICES: '', NPF_GPU_INDEX: '-1' } : { NPF_GPU_INDEX: '-1' };
}
