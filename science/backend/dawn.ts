/// <reference types="@webgpu/types" />
/**
 * Dawn (the npm package `webgpu`, Chrome's WebGPU implementation prebuilt for Node), loaded on
 * first use, and the list of its adapters. No TensorFlow.js here: the worker's GPU probe loads
 * only this (webgpu-device.ts opens a device for tfjs).
 *
 * Dawn's node binding selects an adapter only through its `adapter=NAME` instance option (the
 * first adapter whose device name contains NAME), and lists the adapters only in the message it
 * rejects an unmatched NAME with; both are used here. See docs/webgpu.md.
 */
import { describeError } from '../../common/errors.js';
import type { AdapterInfo } from '../types.js';
import type { WebgpuProbe } from './backend-choice.js';
import { adapterInfoOf, isSoftwareAdapter, parseAdapterListing, pickAdapter, type ListedAdapter, type RawAdapterInfo } from './gpu-adapter.js';

export interface DawnModule {
  create(flags: string[]): GPU;
  globals: object;
}

let dawnModule: Promise<DawnModule> | undefined;

/** Dawn, with its WebGPU globals (GPUBufferUsage, GPUMapMode...) installed: tfjs-backend-webgpu reads them as globals. */
export function loadDawn(): Promise<DawnModule> {
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
export async function requestAdapter(gpu: GPU): Promise<GPUAdapter | null> {
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
