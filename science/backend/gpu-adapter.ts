/**
 * WebGPU adapters as plain data: what an adapter is (hardware or software), Dawn's adapter
 * listing, and which Dawn adapter name opens GPU index i. Pure; the I/O is webgpu-device.ts.
 * What these rules rest on is written up in docs/webgpu.md.
 */
import type { AdapterInfo } from '../types.js';

/** What Dawn's GPUAdapter.info gives (the fields npf-sweep reads). */
export interface RawAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** WebGPU's "fallback adapter": a software implementation. */
  isFallbackAdapter?: boolean;
}

/** One adapter of the WebGPU instance, in Dawn's enumeration order. */
export interface ListedAdapter extends AdapterInfo {
  /**
   * The name Dawn lists and selects it by, e.g. 'llvmpipe (LLVM 15.0.6, 256 bits)' (its driver's
   * device name; `device` is WebGPU's sanitised form of it, 'llvmpipe-llvm-15-0-6-256-bits-').
   */
  dawnName: string;
  /** Dawn's backend for it ('vulkan' on Linux). */
  backend: string;
  /** Position in Dawn's enumeration (all adapters, software ones included). */
  dawnIndex: number;
}

/**
 * CPU implementations of Vulkan/D3D/Metal: Mesa's lavapipe (llvmpipe), softpipe, Google's
 * SwiftShader, Microsoft's WARP ("Basic Render Driver").
 */
const SOFTWARE_NAME = /llvmpipe|lavapipe|softpipe|swiftshader|basic render driver|\bwarp\b|software rasterizer/i;

/**
 * Whether an adapter runs on the CPU. Dawn reports lavapipe as vendor 'mesa', architecture
 * 'software', isFallbackAdapter true, description 'llvmpipe: Mesa ...'; any one of these
 * signs is enough.
 */
export function isSoftwareAdapter(info: RawAdapterInfo): boolean {
  if (info.isFallbackAdapter === true) return true;
  if (/^(software|cpu)$/i.test(info.architecture.trim())) return true;
  return SOFTWARE_NAME.test(info.device) || SOFTWARE_NAME.test(info.description);
}

/** The AdapterInfo a result records. */
export function adapterInfoOf(info: RawAdapterInfo): AdapterInfo {
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software: isSoftwareAdapter(info),
  };
}

/** One line of an adapter for logs: "llvmpipe: Mesa 25.0.7 (mesa, software)". */
export function describeAdapter(a: AdapterInfo): string {
  const what = a.description || a.device || 'unnamed adapter';
  const tags = [a.vendor, a.architecture].filter((s) => s !== '').join(', ');
  return `${what}${tags ? ` (${tags})` : ''}${a.software ? ' [software]' : ''}`;
}

/**
 * The adapters in the message Dawn's node binding rejects requestAdapter() with when no adapter
 * matches its `adapter=NAME` option:
 *   no suitable backends found
 *   Available adapters:
 *    * backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)'
 * Names are AdapterInfo.device. Returns [] when the message has no such listing.
 */
export function parseAdapterListing(message: string): { backend: string; name: string }[] {
  const out: { backend: string; name: string }[] = [];
  const at = message.indexOf('Available adapters:');
  if (at < 0) return out;
  for (const line of message.slice(at).split('\n')) {
    const m = /^\s*\*\s*backend:\s*'([^']*)',\s*name:\s*'(.*)'\s*$/.exec(line);
    if (m) out.push({ backend: m[1], name: m[2] });
  }
  return out;
}

export type AdapterPick =
  | { kind: 'name'; name: string }
  /** An earlier adapter's name contains this one's: Dawn's `adapter=` (a substring match) would open that one. */
  | { kind: 'ambiguous'; name: string; shadowedBy: number }
  | { kind: 'out-of-range'; count: number };

/**
 * How to open the adapter at position `index` of `names` (Dawn's order) with Dawn's only
 * selector, the `adapter=NAME` instance option, which opens the FIRST adapter whose name
 * contains NAME. Position i is reachable exactly when no earlier name contains name i, so
 * several identical GPUs in one process are not: only the first of them can be opened.
 */
export function pickAdapter(names: readonly string[], index: number): AdapterPick {
  if (!Number.isInteger(index) || index < 0 || index >= names.length) return { kind: 'out-of-range', count: names.length };
  const name = names[index];
  const earlier = names.slice(0, index).findIndex((n) => n.includes(name));
  if (earlier >= 0) return { kind: 'ambiguous', name, shadowedBy: earlier };
  return { kind: 'name', name };
}

/**
 * How many hardware adapters of `all` (Dawn's list) can be opened one by one: the first k, up
 * to the first unreachable one. GPU index i of a worker is hardware adapter i, so a worker
 * offers exactly these.
 */
export function addressableCount(all: readonly ListedAdapter[]): number {
  const names = all.map((a) => a.dawnName);
  let k = 0;
  for (const a of all.filter((x) => !x.software)) {
    if (pickAdapter(names, a.dawnIndex).kind !== 'name') break;
    k++;
  }
  return k;
}

/** Ways to get a WebGPU adapter, for the error when none is found. */
export const NO_ADAPTER_HINT =
  'on an NVIDIA node: a driver with its Vulkan ICD (in a container, NVIDIA_DRIVER_CAPABILITIES must include graphics) and the Vulkan loader (Debian: libvulkan1); ' +
  'on a machine without a GPU, Mesa 25 or newer for the software device lavapipe (Debian bookworm: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1; Mesa 22 is refused by Dawn); ' +
  'and XDG_RUNTIME_DIR set to a writable directory (see docs/webgpu.md)';
