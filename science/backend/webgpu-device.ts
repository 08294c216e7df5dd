/// <reference types="@webgpu/types" />
/**
 * A Dawn adapter as the tfjs 'webgpu' backend: opening the device, registering the backend,
 * and watching for the device being lost. tfjs-backend-webgpu is loaded on first use, so a wasm
 * run never loads it (nor Dawn).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeError } from '../../common/errors.js';
import { loadDawn, requestAdapter } from './dawn.js';
import { BackendUnavailableError, DeviceLostError } from './errors.js';
import type { ListedAdapter } from './gpu-adapter.js';

export { probeWebgpu } from './dawn.js';

interface OpenDevice {
  adapter: ListedAdapter;
  device: GPUDevice;
  /** Set once the device is lost (driver reset, GPU fell off the bus, out of memory, destroy()). */
  lost?: { reason: string; message: string };
  /** Rejects with DeviceLostError when the device is lost; never resolves. */
  whenLost: Promise<never>;
}

let current: OpenDevice | undefined;

/** The limits tfjs-backend-webgpu asks for (as its own browser registration does): the adapter's maxima. */
function deviceDescriptor(adapter: GPUAdapter): GPUDeviceDescriptor {
  const features: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) features.push('timestamp-query');
  const l = adapter.limits;
  return {
    requiredFeatures: features,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  };
}

/**
 * tfjs-backend-webgpu checks `navigator.gpu` before it builds a backend (Node 20 has no
 * `navigator`; Node 21+ has one without `gpu`). Set after the package is imported, so that
 * its own browser-style registration (which would open the default adapter) never runs.
 */
function exposeGpu(gpu: GPU): void {
  const g = globalThis as { navigator?: object };
  if (g.navigator === undefined) g.navigator = {};
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
}

async function openDevice(target: ListedAdapter): Promise<{ device: GPUDevice; info: GPUAdapterInfo; gpu: GPU }> {
  const mod = await loadDawn();
  const gpu = mod.create([`adapter=${target.dawnName}`]);
  const adapter = await requestAdapter(gpu);
  if (!adapter) throw new BackendUnavailableError(`WebGPU adapter '${target.dawnName}' was listed but Dawn returned none when asked for it`, { adapter: target.dawnName });
  try {
    return { device: await adapter.requestDevice(deviceDescriptor(adapter)), info: adapter.info, gpu };
  } catch (err) {
    throw new BackendUnavailableError(`WebGPU adapter '${target.device}' refused to open a device: ${describeError(err)}`, { adapter: target.device }, { cause: err });
  }
}

/**
 * Make `target` the tfjs 'webgpu' backend (process-wide, like every tfjs backend). The open
 * device is kept while the same adapter is asked for again and is still alive; a lost device
 * is replaced by a fresh one.
 */
export async function activateWebgpu(target: ListedAdapter): Promise<void> {
  if (current && !current.lost && current.adapter.dawnIndex === target.dawnIndex && current.adapter.dawnName === target.dawnName && tf.findBackend('webgpu')) {
    if (tf.getBackend() !== 'webgpu') await tf.setBackend('webgpu');
    return;
  }
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const { device, info, gpu } = await openDevice(target);
  exposeGpu(gpu);
  const opened: OpenDevice = { adapter: target, device, whenLost: undefined as unknown as Promise<never> };
  opened.whenLost = device.lost.then((lost) => {
    opened.lost = { reason: lost.reason, message: lost.message };
    throw new DeviceLostError(target.device, lost.reason, lost.message);
  });
  opened.whenLost.catch(() => undefined); // observed by trials through whenDeviceLost(); never an unhandled rejection
  if ('webgpu' in tf.engine().registryFactory) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, info));
  current = opened;
  if (!(await tf.setBackend('webgpu'))) throw new BackendUnavailableError(`the tfjs webgpu backend failed to initialise on '${target.device}'`, { adapter: target.device });
}

/** Rejects with DeviceLostError if the active WebGPU device is lost; never settles otherwise. */
export function whenDeviceLost(): Promise<never> {
  return current?.whenLost ?? new Promise<never>(() => undefined);
}

/** The active WebGPU device's loss, if it happened. */
export function deviceLost(): DeviceLostError | undefined {
  return current?.lost ? new DeviceLostError(current.adapter.device, current.lost.reason, current.lost.message) : undefined;
}

/** The device tfjs runs on, for tests that need to lose it on purpose. */
export function activeWebgpuDevice(): GPUDevice | undefined {
  return current?.device;
}
