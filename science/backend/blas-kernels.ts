/**
 * The 'wasm-blas' backend: tfjs-backend-wasm with its matrix products computed by OpenBLAS
 * (blas.ts), in place on the wasm heap.
 *
 * The wasm backend's BatchMatMul kernel is wrapped once per process: while BLAS products are on
 * (initBackend('wasm-blas')), each 2-D product of the batch is one cblas_sgemm on views of the
 * operands' and the output's memory inside the wasm heap; while they are off (a later 'wasm'
 * trial in the same process), the backend's own kernel runs, unchanged. Shapes the wrapper does
 * not handle (dtypes other than float32, empty operands, batch shapes that broadcast other than
 * one-to-many) go to the backend's own kernel as well, so its checks and errors stay the same.
 * The stacked kernel of fused trials (science/fused/stacked-matmul.ts) uses the same sgemm, so a
 * fused member's products are the same calls as its unfused run's.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Blas } from './blas.js';

/** The parts of tfjs-backend-wasm 4.x that in-place products need. */
export interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

let active: Blas | undefined;
let wrapped = false;

/** The BLAS that products run on now, or undefined (plain wasm). */
export function blasProducts(): Blas | undefined {
  return active;
}

/** Turn BLAS products on (with the library to use) or off, for every later product in this process. */
export function setBlasProducts(blas: Blas | undefined): void {
  if (blas) wrapBatchMatMul();
  active = blas;
}

/** A float32 view of `length` elements at byte `offset` of the wasm heap (read the buffer anew: the heap may have grown). */
export function heapView(backend: WasmHeapBackend, offset: number, length: number): Float32Array {
  return new Float32Array(backend.wasm.HEAPU8.buffer, offset, length);
}

function wrapBatchMatMul(): void {
  if (wrapped) return;
  const own = tf.getKernel(tf.BatchMatMul, 'wasm');
  if (!own) throw new Error("the wasm backend has no BatchMatMul kernel to put BLAS products under (is @tensorflow/tfjs-backend-wasm loaded?)");
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  // The same config (its setupFunc included, for a backend initialised later), another kernelFunc.
  tf.registerKernel({
    ...own,
    kernelFunc: (args) => (active && blasBatchMatMul(args as unknown as MatMulArgs, active)) || (own.kernelFunc(args) as tf.TensorInfo),
  });
  wrapped = true;
}

interface MatMulArgs {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  backend: WasmHeapBackend;
  attrs: { transposeA: boolean; transposeB: boolean };
}

/** The product on BLAS, or undefined when the backend's own kernel should take it. */
export function blasBatchMatMul(args: MatMulArgs, blas: Blas): tf.TensorInfo | undefined {
  const { inputs: { a, b }, backend } = args;
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
