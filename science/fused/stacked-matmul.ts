/**
 * Stacked matrix products for K independent models: out[k] = a[k] @ b[k], one tfjs op for all
 * K members.
 *
 * Why a kernel of our own on the WebAssembly backend: its BatchMatMul runs XNNPACK only when the
 * batch dimension is 1 and falls back to a scalar blocked loop otherwise, which makes a batched
 * product ~2x slower per model than K separate 2-D products (docs/fusion.md). The kernel below
 * keeps one tfjs op for the whole stack (the engine's per-op overhead is paid once, not K times)
 * and computes each member with the backend's own XNNPACK path: for member k it registers
 * temporary tensor ids that point at the k-th slice of the operands and of the output inside the
 * wasm heap (no copies), calls the backend's _FusedMatMul on those 2-D views, and releases the
 * ids. Releasing an id only unregisters it in the backend's C++ table (and frees the XNNPACK
 * operator cached on it); the memory belongs to the real tensors.
 *
 * In practice the XNNPACK route is the fallback: on 'wasm-blas' (BLAS products on,
 * science/backend/wasm-products.ts) each member is one cblas_sgemm on views of the wasm heap,
 * and otherwise each untransposed member product runs on the hand-assembled GEMM
 * (science/backend/wasm-gemm.ts, bit-identical to XNNPACK without its per-call packing): the
 * same calls the unfused path makes. XNNPACK is left for NPF_WASM_MATMUL=xnnpack and for shapes
 * the GEMM's blocks do not cover.
 *
 * Other backends (cpu, webgpu, tensorflow) get the stock batched tf.matMul, which is what they
 * are good at.
 */
import * as tf from '@tensorflow/tfjs-core';
import { blasProducts, gemmProducts, heapView } from '../backend/wasm-products.js';
import { gemmModuleOf, type GemmBackend } from '../backend/wasm-gemm.js';
import { gemmWorthIt, products } from '../wasm/gemm-module.js';

export const STACKED_MATMUL = 'NpfStackedMatMul';

/** The parts of the wasm backend (tfjs-backend-wasm 4.x) the kernel uses. */
interface WasmBackend {
  wasm: {
    HEAPU8: Uint8Array;
    cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
  };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

type FusedMatMulFn = (...args: unknown[]) => void;

// One wrapper per backend instance (a test may re-create the backend).
const wrappers = new WeakMap<object, FusedMatMulFn>();

function fusedMatMulOf(backend: WasmBackend): FusedMatMulFn {
  let fn = wrappers.get(backend);
  if (!fn) {
    // Same signature the backend's own _FusedMatMul kernel wraps: a, a shape, rank, b, b shape,
    // rank, transposeA, transposeB, activation, bias id, prelu id, leaky alpha, out id.
    fn = backend.wasm.cwrap('_FusedMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'number']);
    wrappers.set(backend, fn);
  }
  return fn;
}

/** XNNPACK clamp codes of the backend's FusableActivation enum. */
function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

/**
 * Kernel: a [K, M, N] or [M, N] (shared by every member), b [K, N, P] or [N, P] (shared);
 * out [K, M, P]; with transposeA a is stored [K, N, M], with transposeB b is stored [K, P, N].
 * The bias is not fused into the product: XNNPACK would start its accumulators at the bias,
 * which rounds differently from the unfused path's matMul-then-add, and a fused member must
 * reproduce its unfused run.
 */
function stackedMatMulWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Record<string, unknown> }): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const transposeA = Boolean(args.attrs?.transposeA);
  const transposeB = Boolean(args.attrs?.transposeB);
  const k = a.shape.length === 3 ? a.shape[0] : b.shape[0];
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  const [m, n] = transposeA ? [ca, ra] : [ra, ca];
  const p = transposeB ? rb : cb;
  const out = backend.makeOutput([k, m, p], 'float32');
  const stackedA = a.shape.length === 3;
  const stackedB = b.shape.length === 3;
  const blas = blasProducts();
  if (blas) {
    const [aOff, bOff, outOff] = [a, b, out].map((t) => backend.dataIdMap.get(t.dataId).memoryOffset);
    for (let i = 0; i < k; i++) {
      const av = heapView(backend, aOff + (stackedA ? i * m * n * 4 : 0), m * n);
      const bv = heapView(backend, bOff + (stackedB ? i * n * p * 4 : 0), n * p);
      blas.sgemm(transposeA, transposeB, m, p, n, av, ca, bv, cb, heapView(backend, outOff + i * m * p * 4, m * p), p);
    }
    return out;
  }
  const mod = gemmProducts() && !transposeA && !transposeB && gemmWorthIt(m, p) ? gemmModuleOf(backend as unknown as GemmBackend) : undefined;
  if (mod) {
    const [aOff, bOff, outOff] = [a, b, out].map((t) => backend.dataIdMap.get(t.dataId).memoryOffset);
    products(mod, aOff, bOff, outOff, m, n, p, k, !stackedA, !stackedB);
    return out;
  }
  const fn = fusedMatMulOf(backend);
  const tfjs = backend.wasm.tfjs;
  const aData = backend.dataIdMap.get(a.dataId);
  const bData = backend.dataIdMap.get(b.dataId);
  const outData = backend.dataIdMap.get(out.dataId);
  const aShape = shapeBytes([1, ra, ca]);
  const bShape = shapeBytes([1, rb, cb]);
  const temporary: number[] = [];
  const view = (base: { id: number; memoryOffset: number }, stacked: boolean, size: number, member: number): number => {
    if (!stacked) return base.id;
    const id = backend.dataIdNextNumber++;
    tfjs.registerTensor(id, size, base.memoryOffset + member * size * 4);
    temporary.push(id);
    return id;
  };
  try {
    for (let i = 0; i < k; i++) {
      const aId = view(aData, stackedA, m * n, i);
      const bId = view(bData, stackedB, n * p, i);
      const outId = view(outData, true, m * p, i);
      fn(aId, aShape, 3, bId, bShape, 3, transposeA ? 1 : 0, transposeB ? 1 : 0, 0, 0, 0, 0, outId);
      // Release now: the operator XNNPACK caches on a weight id is deleted with it.
      while (temporary.length) tfjs.disposeData(temporary.pop() as number);
    }
  } finally {
    while (temporary.length) tfjs.disposeData(temporary.pop() as number);
  }
  return out;
}

let registered = false;

/** Register the wasm kernel once per process (a new kernel name: nothing else changes). */
function ensureRegistered(): void {
  if (registered) return;
  if (!tf.getKernel(STACKED_MATMUL, 'wasm')) {
    tf.registerKernel({ kernelName: STACKED_MATMUL, backendName: 'wasm', kernelFunc: stackedMatMulWasm as unknown as tf.KernelFunc });
  }
  registered = true;
}

/**
 * out[k] = op(a[k]) @ op(b[k]) for a [K, M, N] or shared [M, N] and b [K, N, P] or shared
 * [N, P], op transposing the member's matrix when asked. The callers (stacked-ops.ts) record
 * their own gradients.
 */
export function stackedMatMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor3D {
  if (a.rank === 2 && b.rank === 2) throw new Error('stackedMatMul needs at least one stacked [K, ., .] operand');
  if (tf.getBackend() === 'wasm') {
    ensureRegistered();
    return tf.engine().runKernel(STACKED_MATMUL, { a, b }, { transposeA, transposeB } as unknown as tf.NamedAttrMap) as tf.Tensor3D;
  }
  return tf.matMul(a, b, transposeA, transposeB) as tf.Tensor3D;
}
