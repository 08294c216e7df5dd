/**
 * Where the wasm backend's matrix products run: its BatchMatMul kernel is wrapped once per
 * process, and each product goes to the first of these that takes it.
 *
 * - OpenBLAS, on 'wasm-blas' (initBackend turns it on): each 2-D product of the batch is one
 *   cblas_sgemm on views of the operands' and the output's memory inside the wasm heap (blas.ts).
 * - The hand-assembled GEMM (wasm-gemm.ts), on 'wasm' and on 'wasm-blas' for what BLAS leaves:
 *   the products XNNPACK would compute, bit for bit the same, without repacking the right
 *   operand on every call. NPF_WASM_MATMUL=xnnpack turns it off.
 * - The backend's own kernel, unchanged, for the rest (dtypes other than float32, empty
 *   operands, transposed operands without BLAS, batch shapes that broadcast other than
 *   one-to-many), so its checks and errors stay the same.
 *
 * The stacked kernel of fused trials (science/fused/stacked-matmul.ts) uses the same sgemm and
 * GEMM, so a fused member's products are the same calls as its unfused run's.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Blas } from './blas.js';
import { gemmBatchMatMul, wasmMatMulFromEnv, type MatMulArgs } from './wasm-gemm.js';

/** The parts of tfjs-backend-wasm 4.x that in-place products need. */
export interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

let active: Blas | undefined;
let gemm = false;
let wrapped = false;

/** The BLAS that products run on now, or undefined (plain wasm). */
export function blasProducts(): Blas | undefined {
  return active;
}

/** Whether products the BLAS does not take run on the GEMM (else on XNNPACK). */
export function gemmProducts(): boolean {
  return gemm;
}

/**
 * Route every later wasm product in this process: on BLAS when `blas` is given, and on the GEMM
 * unless NPF_WASM_MATMUL=xnnpack (read now: a bad value is an error here, before any training).
 */
export function setWasmProducts(blas: Blas | undefined, env: NodeJS.ProcessEnv = process.env): void {
  const useGemm = wasmMatMulFromEnv(env) === 'gemm';
  if (blas || useGemm) wrapBatchMatMul();
  active = blas;
  gemm = useGemm;
}

/** A float32 view of `length` elements at byte `offset` of the wasm heap (read the buffer anew: the heap may have grown). */
export function heapView(backend: WasmHeapBackend, offset: number, length: number): Float32Array {
  return new Float32Array(backend.wasm.HEAPU8.buffer, offset, length);
}

function wrapBatchMatMul(): void {
  if (wrapped) return;
  const own = tf.getKernel(tf.BatchMatMul, 'wasm');
  if (!own) throw new Error('the wasm backend has no BatchMatMul kernel to route products from (is @tensorflow/tfjs-backend-wasm loaded?)');
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  // The same config (its setupFunc included, for a backend initialised later), another kernelFunc.
  tf.registerKernel({
    ...own,
    kernelFunc: (args) => {
      const a = args as unknown as MatMulArgs;
      return (active && blasBatchMatMul(a, active)) || (gemm && gemmBatchMatMul(a)) || (own.kernelFunc(args) as tf.TensorInfo);
    },
  });
  wrapped = true;
}

/** The product on BLAS, or undefined when the backend's own kernel should take it. */
export function blasBatchMatMul(args: MatMulArgs, blas: Blas): tf.TensorInfo | undefined {
  const { inputs: { a, b } } = args;
  const backend = args.backend as WasmHeapBackend;
  const transposeA = Boolean(args.attrs.transposeA);
  const transposeB = Boolean(args.attrs.transposeB);
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb || m * n * k === 0) return undefined;
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return undefined;
  }
  const batch = Math.max(batchA, batchB);
  if (tf.util.sizeFromShape(outer) !== batch) return undefined;
  const out = backend.makeOutput([...outer, m, n], 'float32');
  // Offsets after makeOutput: allocating may have grown (and so replaced) the heap's buffer.
  const aOffset = backend.dataIdMap.get(a.dataId).memoryOffset;
  const bOffset = backend.dataIdMap.get(b.dataId).memoryOffset;
  const outOffset = backend.dataIdMap.get(out.dataId).memoryOffset;
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  for (let i = 0; i < batch; i++) {
    const av = heapView(backend, aOffset + (batchA === 1 ? 0 : i) * m * k * 4, m * k);
    const bv = heapView(backend, bOffset + (batchB === 1 ? 0 : i) * k * n * 4, k * n);
    blas.sgemm(transposeA, transposeB, m, n, k, av, lda, bv, ldb, heapView(backend, outOffset + i * m * n * 4, m * n), n);
  }
  return out;
}
