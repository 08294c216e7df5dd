/**
 * The wasm backend's plain matrix products on the hand-assembled GEMM (science/wasm/gemm-module.ts)
 * instead of XNNPACK, in place on the wasm heap.
 *
 * Why: tfjs hands XNNPACK every product as a fresh operator, so XNNPACK packs the right operand
 * on every call; for the small products of an FC step (32 rows of a batch against a 128 x 128
 * kernel) the packing costs as much as the arithmetic. The GEMM reads its operands in place and
 * does the same float operations in the same order, so every product is bit-identical to the
 * backend's own (test/wasm/gemm.test.ts), only faster (docs/performance.md).
 *
 * Only what XNNPACK computed is taken over: float32 products without transposes whose output
 * the GEMM's 4 x 8 blocks mostly cover (gemmWorthIt). Transposed operands (the backend's scalar
 * loop, with another order of additions) and everything else stay with the backend's kernel.
 * NPF_WASM_MATMUL=xnnpack turns the GEMM off for a process, for comparisons.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gemmWorthIt, instantiateGemmModule, products, type GemmModule } from '../wasm/gemm-module.js';

/** The parts of tfjs-backend-wasm 4.x the GEMM uses. */
export interface GemmBackend {
  wasm: { asm: { memory: object } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

export type WasmMatMul = 'gemm' | 'xnnpack';

/** The products chosen by NPF_WASM_MATMUL (default 'gemm'); anything else is an error naming the variable. */
export function wasmMatMulFromEnv(env: NodeJS.ProcessEnv = process.env): WasmMatMul {
  const v = env.NPF_WASM_MATMUL;
  if (v === undefined || v === '' || v === 'gemm') return 'gemm';
  if (v === 'xnnpack') return 'xnnpack';
  throw new Error(`NPF_WASM_MATMUL=${JSON.stringify(v)}: expected "gemm" (the default) or "xnnpack"`);
}

// One instance per backend object (a test may re-create the backend); null: it could not be made.
const modules = new WeakMap<object, GemmModule | null>();

/**
 * The GEMM instantiated over this backend's memory, or undefined where that fails (a build of
 * the backend whose memory the module cannot import, e.g. a shared one): then the backend's own
 * products run, as with NPF_WASM_MATMUL=xnnpack, and the reason is printed once.
 */
export function gemmModuleOf(backend: GemmBackend): GemmModule | undefined {
  let mod = modules.get(backend);
  if (mod === undefined) {
    try {
      mod = instantiateGemmModule(backend.wasm.asm.memory);
    } catch (err) {
      mod = null;
      process.emitWarning(`npf-sweep: the wasm GEMM could not be set up (${(err as Error).message}); products stay on the backend's XNNPACK`);
    }
    modules.set(backend, mod);
  }
  return mod ?? undefined;
}

export interface MatMulArgs {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  backend: unknown;
  attrs: { transposeA: boolean; transposeB: boolean };
}

/**
 * BatchMatMul on the GEMM, or undefined when the backend's own kernel should take it: a
 * [..., m, n] times b [..., n, p], batch shapes equal or one of them a single matrix.
 */
export function gemmBatchMatMul(args: MatMulArgs): tf.TensorInfo | undefined {
  const { a, b } = args.inputs;
  if (args.attrs.transposeA || args.attrs.transposeB) return undefined;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const [m, n] = a.shape.slice(-2);
  const [nb, p] = b.shape.slice(-2);
  if (n !== nb || m * n * p === 0 || !gemmWorthIt(m, p)) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  let outer: number[];
  if (tf.util.arraysEqual(outerA, outerB)) outer = outerA;
  else if (batchA === 1 && outerA.length <= outerB.length) outer = outerB;
  else if (batchB === 1 && outerB.length <= outerA.length) outer = outerA;
  else return undefined;
  const backend = args.backend as GemmBackend;
  const mod = gemmModuleOf(backend);
  if (!mod) return undefined;
  const out = backend.makeOutput([...outer, m, p], 'float32');
  // Offsets after makeOutput: allocating may have grown the heap (the offsets stay valid, the buffer does not).
  const [aOff, bOff, outOff] = [a, b, out].map((t) => backend.dataIdMap.get(t.dataId).memoryOffset);
  products(mod, aOff, bOff, outOff, m, n, p, Math.max(batchA, batchB), batchA === 1, batchB === 1);
  return out;
}
