/**
 * Optimiser updates of a stacked variable as one tfjs kernel each, on the wasm backend: the
 * single-pass loops of science/wasm/update-module.ts, run member by member with each member's step
 * size. New tensors are returned (the inputs are not touched), as any tfjs kernel does.
 * Elsewhere these return undefined and the caller runs the same update as tfjs ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { instantiateUpdateModule, type UpdateModule } from '../wasm/update-module.js';

const ADAM = 'NpfFusedAdam';
const SGD = 'NpfFusedSgd';

/** The parts of the wasm backend (tfjs-backend-wasm 4.x) these kernels use. */
interface WasmBackend {
  wasm: { asm: { memory: object } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

const modules = new WeakMap<object, UpdateModule>();

function moduleOf(backend: WasmBackend): UpdateModule {
  let m = modules.get(backend);
  if (!m) {
    m = instantiateUpdateModule(backend.wasm.asm.memory);
    modules.set(backend, m);
  }
  return m;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function offsets(backend: WasmBackend, ...tensors: tf.TensorInfo[]): number[] {
  return tensors.map((t) => backend.dataIdMap.get(t.dataId).memoryOffset);
}

function adamKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { w, g, m, v } = args.inputs as Record<'w' | 'g' | 'm' | 'v', tf.TensorInfo>;
  const { lrs, c1, c2, eps } = args.attrs as unknown as { lrs: number[]; c1: number; c2: number; eps: number };
  const outs = [w, m, v].map((t) => backend.makeOutput([...t.shape], 'float32'));
  const [gp, mp, vp, wp, outW, outM, outV] = offsets(backend, g, m, v, w, ...outs);
  const per = w.shape.slice(1).reduce((a, b) => a * b, 1);
  const mod = moduleOf(backend);
  lrs.forEach((lr, k) => {
    const o = 4 * k * per;
    mod.adam(gp + o, mp + o, vp + o, wp + o, outM + o, outV + o, outW + o, per, c1, c2, eps, lr);
  });
  return outs;
}

function sgdKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { w, g } = args.inputs as Record<'w' | 'g', tf.TensorInfo>;
  const { lrs } = args.attrs as unknown as { lrs: number[] };
  const out = backend.makeOutput([...w.shape], 'float32');
  const [gp, wp, outW] = offsets(backend, g, w, out);
  const per = w.shape.slice(1).reduce((a, b) => a * b, 1);
  const mod = moduleOf(backend);
  lrs.forEach((lr, k) => mod.sgd(gp + 4 * k * per, wp + 4 * k * per, outW + 4 * k * per, per, lr));
  return out;
}

let registered = false;

function ensureRegistered(): void {
  if (registered) return;
  if (!tf.getKernel(ADAM, 'wasm')) tf.registerKernel({ kernelName: ADAM, backendName: 'wasm', kernelFunc: adamKernel as unknown as tf.KernelFunc });
  if (!tf.getKernel(SGD, 'wasm')) tf.registerKernel({ kernelName: SGD, backendName: 'wasm', kernelFunc: sgdKernel as unknown as tf.KernelFunc });
  registered = true;
}

/** Constants of the update as float32 values (the unfused path holds them as float32 scalars). */
export interface AdamConstants {
  c1: number;
  c2: number;
  eps: number;
}

/**
 * Adam's update of stacked `w` ([K, ...]) with gradient g and state m, v; lrs[k] is member k's
 * bias-corrected step size as a float32 value. Returns [w', m', v'], or undefined off wasm.
 */
export function fusedAdam(w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, lrs: Float32Array, c: AdamConstants): tf.Tensor[] | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  ensureRegistered();
  const attrs = { lrs: Array.from(lrs), c1: Math.fround(c.c1), c2: Math.fround(c.c2), eps: Math.fround(c.eps) };
  return tf.engine().runKernel(ADAM, { w, g, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
}

/** SGD's update w - g lr of stacked `w`, member k with step size lrs[k] (float32). Undefined off wasm. */
export function fusedSgd(w: tf.Tensor, g: tf.Tensor, lrs: Float32Array): tf.Tensor | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  ensureRegistered();
  return tf.engine().runKernel(SGD, { w, g }, { lrs: Array.from(lrs) } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
