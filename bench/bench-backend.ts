/**
 * The backends a benchmark can name: the project's own, and 'wasm-xnnpack', the wasm backend
 * with its products left on XNNPACK (NPF_WASM_MATMUL=xnnpack, as before the GEMM), so that one
 * run can measure the GEMM against what it replaced.
 */
import { initBackend } from '../science/backend/init-backend.js';
import type { BackendChoice } from '../science/backend/backend-choice.js';
import { setWasmProducts } from '../science/backend/wasm-products.js';
import type { BackendName } from '../science/types.js';

export const WASM_XNNPACK = 'wasm-xnnpack';

/** Activate a benchmark backend (initBackend resets the products to the environment's choice). */
export async function initBenchBackend(name: string): Promise<BackendChoice> {
  if (name !== WASM_XNNPACK) return initBackend(name as BackendName, false);
  const choice = await initBackend('wasm', false);
  setWasmProducts(undefined, { NPF_WASM_MATMUL: 'xnnpack' });
  return { ...choice, note: 'products on XNNPACK (NPF_WASM_MATMUL=xnnpack)' };
}

/** Whether a benchmark backend keeps its tensors on the wasm heap (the worker's gate cache and fuse default apply). */
export function onWasmHeap(name: string): boolean {
  return name === 'wasm' || name === 'wasm-blas' || name === WASM_XNNPACK;
}
