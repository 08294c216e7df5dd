/// <reference types="@webgpu/types" />
/**
 * WebGPU in Node through Dawn (the npm package `webgpu`, Chrome's implementation prebuilt):
 * listing the adapters, opening one as the tfjs 'webgpu' backend, and watching for the device
 * being lost. Both packages are loaded on first use, so a wasm run never loads Dawn.
 *
 * Dawn's node binding selects an adapter only through its `adapter=NAME` instance option (the
 * first adapter whose device name contains NAME), and lists the adapters only in the message it
 * rejects an unmatched NAME with; both are used here. See docs/webgpu.md.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeError } from '../../common/errors.js';
import type { AdapterInfo } from '../types.js';
import type { WebgpuProbe } from './backend-choice.js';
import { BackendUnavailableError, DeviceLostError } from './errors.js';
import { adapterInfoOf, isSoftwareAdapter, parseAdapterListing, pickAdapter, type ListedAdapter, type RawAdapterInfo } from './gpu-adapter.js';

interface DawnModule {
  create(flags: string[]): GPU;
  globals: object;
}

let dawnModule: Promise<DawnModule> | undefined;

/** Dawn, with its WebGPU globals (GPUBufferUsage, GPUMapMode...) installed: tfjs-backend-webgpu reads them as globals. */
function loadDawn(): Promise<DawnModule> {
  dawnModule ??= (async () => {
    const mod = (await import('webgpu')) as unknown as DawnModule;
    Object.assign(globalThis, mod.globals);
    return mod;
  })();
  return dawnModule;
}

/** No adapter's name contains this, so Dawn answers with its list of adapters. */
const LIST_ONLY = 'adapter=\u0001npf-sweep: list the adapters';

/**
 * The default request first; then feature level 'compatibility', which some adapters need
 * (older Dawn builds answered null for lavapipe without it).
 */
async function requestAdapter(gpu: GPU): Promise<GPUAdapter | null> {
  const first = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (first) return first;
  return gpu.requestAdapter({ powerPreference: 'high-performance', featureLevel: 'compatibility' } as GPURequestAdapterOptions);
}

function rawInfo(adapter: GPUAdapter): RawAdapterInfo {
  const i = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: i.isFallbackAdapter };
}

/**
 * Every adapter Dawn enumerates (all of its default backend: Vulkan on Linux), in its order,
 * each with its info and whether it is software. Loads Dawn on first call; never throws.
 */
export async function probeWebgpu(): Promise<WebgpuProbe> {
  let mod: DawnModule;
  try {
    mod = await loadDawn();
  } catch (err) {
    return { ok: false, reason: `the npm package 'webgpu' (Dawn) failed to load on ${process.platform}-${process.arch}: ${describeError(err)}` };
  }
  let listing: { backend: string; name: string }[];
  try {
    const unexpected = await requestAdapter(mod.create([LIST_ONLY]));
    // null: Dawn enumerated no adapter at all (no Vulkan loader, no ICD, or every device refused).
    listing = unexpected ? [{ backend: 'vulkan', name: unexpected.info.device }] : [];
  } catch (err) {
    listing = parseAdapterListing(describeError(err));
    if (listing.length === 0) return { ok: false, reason: `Dawn could not list its adapters: ${describeError(err)}` };
  }
  const names = listing.map((l) => l.name);
  const adapters: ListedAdapter[] = [];
  for (let i = 0; i < listing.length; i++) {
    const pick = pickAdapter(names, i);
    let info: AdapterInfo = { vendor: '', architecture: '', device: names[i], description: names[i], software: isSoftwareAdapter({ vendor: '', architecture: '', device: names[i], description: '' }) };
    if (pick.kind === 'name') {
      try {
        const adapter = await requestAdapter(mod.create([`adapter=${pick.name}`]));
        if (adapter) info = adapterInfoOf(rawInfo(adapter));
      } catch {
        // listed but not openable on its own: keep what the listing says
      }
    }
    adapters.push({ ...info, dawnName: names[i], backend: listing[i].backend, dawnIndex: i });
  }
  return { ok: true, adapters };
}

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
