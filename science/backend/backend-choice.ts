/**
 * Which TensorFlow.js backend a trial runs on: a pure decision from the request, the model kind
 * and what this machine has (installed packages, CUDA devices, WebGPU adapters).
 */
import type { BlasPresence } from './blas.js';
import { describeAdapter, NO_ADAPTER_HINT, pickAdapter, type ListedAdapter } from './gpu-adapter.js';

/**
 * Every backend a trial may ask for. `auto` picks tensorflow-gpu (with a CUDA device) > webgpu
 * (on a hardware adapter) > tensorflow > wasm-blas (wasm with OpenBLAS products, when the machine
 * has OpenBLAS) > wasm; a software WebGPU adapter (lavapipe) is used only when 'webgpu' is asked
 * for by name.
 */
export const BACKENDS = ['auto', 'wasm', 'wasm-blas', 'cpu', 'tensorflow', 'tensorflow-gpu', 'webgpu'] as const;

export type BackendName = (typeof BACKENDS)[number];

/** What this process can load. */
export interface InstalledBackends {
  /** @tensorflow/tfjs-node-gpu can be imported. */
  tensorflowGpu: boolean;
  /** @tensorflow/tfjs-node can be imported. */
  tensorflow: boolean;
  /** NVIDIA devices this process sees (what tfjs-node-gpu would run on); 0 when unknown. */
  cudaDevices: number;
  /** Whether 'wasm-blas' can run (koffi and OpenBLAS found), and why not; absent: not looked for. */
  blas?: BlasPresence;
}

/** The WebGPU adapters Dawn lists, or why there are none to list (no module, no loader...). */
export type WebgpuProbe = { ok: true; adapters: ListedAdapter[] } | { ok: false; reason: string };

export interface BackendChoice {
  /** What the result records: 'wasm', 'wasm-blas', 'cpu', 'tensorflow', 'tensorflow-gpu' or 'webgpu'. */
  backend: Exclude<BackendName, 'auto'>;
  /** Why this backend, when it is not simply the one asked for. */
  note?: string;
  /** For 'webgpu': the adapter to open. */
  adapter?: ListedAdapter;
}

export type BackendDecision = { ok: true; choice: BackendChoice } | { ok: false; reason: string };

const CONV_ON_WASM =
  'conv on wasm without tfjs-node: its missing Conv2DBackpropFilter is replaced by npf-sweep\'s own conv gradient (shifted matMuls); install @tensorflow/tfjs-node(-gpu) for full CIFAR runs';

export const TFJS_NODE_INSTALL_HINT =
  'install it beside npf-sweep with `npm install @tensorflow/tfjs-node@4.22` (or @tensorflow/tfjs-node-gpu@4.22 for CUDA), matching @tensorflow/tfjs-core 4.22';

const SOFTWARE_NOTE = 'a software WebGPU adapter: every shader runs for real, on the CPU, far slower than wasm';

type Target = { ok: true; adapter: ListedAdapter } | { ok: false; reason: string };

/**
 * The adapter for GPU index `gpuIndex` (default 0): the i-th hardware adapter in Dawn's order;
 * software adapters only when `allowSoftware` and no hardware adapter exists.
 */
export function webgpuTarget(probe: WebgpuProbe, gpuIndex: number | undefined, allowSoftware: boolean): Target {
  if (!probe.ok) return { ok: false, reason: probe.reason };
  const hardware = probe.adapters.filter((a) => !a.software);
  const pool = hardware.length > 0 ? hardware : allowSoftware ? probe.adapters : [];
  if (pool.length === 0) {
    const seen = probe.adapters.length > 0 ? `only software adapters (${probe.adapters.map(describeAdapter).join('; ')}), which 'auto' never picks` : 'no WebGPU adapter';
    return { ok: false, reason: `Dawn found ${seen}` };
  }
  const i = gpuIndex ?? 0;
  if (i >= pool.length) {
    return { ok: false, reason: `GPU index ${i} was asked for, but Dawn lists ${pool.length} usable adapter(s): ${pool.map(describeAdapter).join('; ')}` };
  }
  const target = pool[i];
  const pick = pickAdapter(
    probe.adapters.map((a) => a.dawnName),
    target.dawnIndex,
  );
  if (pick.kind !== 'name') {
    return {
      ok: false,
      reason:
        `GPU index ${i} ('${target.device}') cannot be opened in this process: Dawn selects adapters only by name and an earlier adapter's name contains this one's, ` +
        'so identical GPUs are reachable one per process; run one worker per GPU (the WebGPU Kubernetes overlay requests nvidia.com/gpu: 1)',
    };
  }
  return { ok: true, adapter: target };
}

/**
 * Whether deciding `requested` needs the WebGPU adapter list (so it is only probed when it
 * matters). gpuIndex -1: the trial was given no GPU, so `auto` does not look for one.
 */
export function needsWebgpuProbe(requested: BackendName, installed: InstalledBackends, gpuIndex?: number): boolean {
  if (requested === 'webgpu') return true;
  return requested === 'auto' && gpuIndex !== -1 && !(installed.tensorflowGpu && installed.cudaDevices > 0);
}

/**
 * - auto: tensorflow-gpu on a CUDA device > webgpu on a hardware adapter > tensorflow
 *   (> tensorflow-gpu on TensorFlow's CPU kernels, when only it is installed) > wasm-blas (when
 *   OpenBLAS is found) > wasm, for dense
 *   and conv models alike. The wasm backend has no Conv2DBackpropFilter kernel, but the conv
 *   layer's gradient is computed here from kernels it has (science/models/ops.ts).
 * - webgpu: the adapter at `gpuIndex` (default, and for -1, the first); a software adapter
 *   (lavapipe) only here, when asked for by name, and only if there is no hardware one.
 * gpuIndex -1 means the trial was placed on no GPU (a CPU-only trial on a GPU worker).
 * - an explicit request is honoured or refused with the reason, never silently swapped.
 * `webgpu` is the adapter probe, undefined when needsWebgpuProbe said it is not needed.
 */
export function chooseBackend(
  requested: BackendName,
  hasConv: boolean,
  installed: InstalledBackends,
  webgpu?: WebgpuProbe,
  gpuIndex?: number,
): BackendDecision {
  switch (requested) {
    case 'auto': {
      if (installed.tensorflowGpu && installed.cudaDevices > 0) return { ok: true, choice: { backend: 'tensorflow-gpu' } };
      const target = webgpu && gpuIndex !== -1 ? webgpuTarget(webgpu, gpuIndex, false) : undefined;
      if (target?.ok) return { ok: true, choice: { backend: 'webgpu', adapter: target.adapter } };
      const skipped = target && webgpu?.ok && webgpu.adapters.length > 0 ? `WebGPU not used: ${target.reason}` : undefined;
      if (installed.tensorflow) return { ok: true, choice: withNote({ backend: 'tensorflow' }, skipped) };
      if (installed.tensorflowGpu) {
        return { ok: true, choice: withNote({ backend: 'tensorflow-gpu' }, 'no CUDA device found: TensorFlow runs on its CPU kernels', skipped) };
      }
      const backend = installed.blas?.ok ? 'wasm-blas' : 'wasm';
      return { ok: true, choice: withNote({ backend }, hasConv ? CONV_ON_WASM : undefined, skipped) };
    }
    case 'wasm':
      return { ok: true, choice: hasConv ? { backend: 'wasm', note: CONV_ON_WASM } : { backend: 'wasm' } };
    case 'wasm-blas': {
      const blas = installed.blas ?? { ok: false, reason: 'OpenBLAS was not looked for' };
      if (!blas.ok) return { ok: false, reason: `backend 'wasm-blas' needs OpenBLAS and the npm package koffi: ${blas.reason}` };
      return { ok: true, choice: hasConv ? { backend: 'wasm-blas', note: CONV_ON_WASM } : { backend: 'wasm-blas' } };
    }
    case 'cpu':
      if (hasConv) return { ok: true, choice: { backend: 'cpu', note: 'the cpu backend is plain JavaScript: conv training is far slower than on wasm' } };
      return { ok: true, choice: { backend: 'cpu' } };
    case 'tensorflow':
      if (!installed.tensorflow) return { ok: false, reason: `backend 'tensorflow' needs @tensorflow/tfjs-node, which is not installed: ${TFJS_NODE_INSTALL_HINT}` };
      return { ok: true, choice: { backend: 'tensorflow' } };
    case 'tensorflow-gpu':
      if (!installed.tensorflowGpu) {
        return { ok: false, reason: `backend 'tensorflow-gpu' needs @tensorflow/tfjs-node-gpu, which is not installed: ${TFJS_NODE_INSTALL_HINT}` };
      }
      return { ok: true, choice: { backend: 'tensorflow-gpu' } };
    case 'webgpu': {
      if (!webgpu) return { ok: false, reason: "backend 'webgpu': the WebGPU adapters were not probed" };
      const target = webgpuTarget(webgpu, gpuIndex === -1 ? undefined : gpuIndex, true);
      if (!target.ok) {
        const noAdapter = !webgpu.ok || webgpu.adapters.length === 0;
        return {
          ok: false,
          reason: `backend 'webgpu' needs a WebGPU adapter (Dawn, from the npm package 'webgpu', looks for Vulkan devices on Linux): ${target.reason}${noAdapter ? `. To get one: ${NO_ADAPTER_HINT}` : ''}`,
        };
      }
      return { ok: true, choice: target.adapter.software ? { backend: 'webgpu', adapter: target.adapter, note: SOFTWARE_NOTE } : { backend: 'webgpu', adapter: target.adapter } };
    }
  }
}

function withNote(choice: BackendChoice, ...notes: (string | undefined)[]): BackendChoice {
  const text = notes.filter((n): n is string => Boolean(n)).join('; ');
  return text ? { ...choice, note: text } : choice;
}
