import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../science/backend/init-backend.js';
import { gemmBatchMatMul, gemmModuleOf, wasmMatMulFromEnv, type GemmBackend } from '../../science/backend/wasm-gemm.js';
import { gemmProducts, setWasmProducts } from '../../science/backend/wasm-products.js';
import { gemmModuleBytes, gemmWorthIt } from '../../science/wasm/gemm-module.js';
import { stackedMatMul } from '../../science/fused/stacked-matmul.js';
import { mulberry32 } from '../../science/models/prng.js';

const XNNPACK = { NPF_WASM_MATMUL: 'xnnpack' };

function random(shape: number[], seed: number, special: number[] = []): tf.Tensor {
  const rng = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: n }, () => {
    const u = rng.next();
    // Now and then an exact zero, a negative zero or a large value: rounding and signs of zeros.
    if (u < 0.03) return 0;
    if (u < 0.05) return -0;
    if (u < 0.07) return (rng.next() - 0.5) * 1e6;
    return rng.next() - 0.5;
  });
  special.forEach((v, i) => (values[(i * 7919) % n] = v));
  return tf.tensor(values, shape);
}

/** The product computed by the backend's own kernel (XNNPACK for these shapes). */
async function own(a: tf.Tensor, b: tf.Tensor): Promise<Float32Array> {
  setWasmProducts(undefined, XNNPACK);
  try {
    const out = tf.matMul(a, b);
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  } finally {
    setWasmProducts(undefined, {});
  }
}

/** The product on the GEMM, asserting that the GEMM took it. */
async function onGemm(a: tf.Tensor, b: tf.Tensor): Promise<Float32Array> {
  const info = gemmBatchMatMul({ inputs: { a, b }, backend: tf.backend(), attrs: { transposeA: false, transposeB: false } });
  if (!info) throw new Error(`the GEMM declined ${a.shape} x ${b.shape}`);
  const out = tf.engine().makeTensorFromTensorInfo(info);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

/** Bitwise comparison (distinguishes -0 from +0 and compares NaN payload-free): the index of the first difference or -1. */
function firstBitDifference(x: Float32Array, y: Float32Array): number {
  const xi = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const yi = new Uint32Array(y.buffer, y.byteOffset, y.length);
  for (let i = 0; i < x.length; i++) if (xi[i] !== yi[i] && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return i;
  return x.length === y.length ? -1 : x.length;
}

describe('wasm GEMM - the wasm backend products without per-call packing', () => {
  beforeAll(async () => {
    await initBackend('wasm', false);
  });
  afterAll(() => setWasmProducts(undefined, {}));

  it('wasm GEMM - bit-identical to the backend own XNNPACK product over random shapes, leftover rows and columns included', async () => {
    let seed = 1;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 37 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 41 }), async (m, n, p) => {
        if (!gemmWorthIt(m, p)) return;
        const a = random([m, n], seed++);
        const b = random([n, p], seed++);
        const diff = firstBitDifference(await onGemm(a, b), await own(a, b));
        tf.dispose([a, b]);
        expect(diff, `${m} x ${n} x ${p}: first differing element`).toBe(-1);
      }),
      { numRuns: 60, seed: 20261202 },
    );
  });

  it('wasm GEMM - bit-identical on the shapes of an FC step and of a test pass (784-128-10, batch 32 and 1000)', async () => {
    const shapes = [[32, 784, 128], [32, 128, 128], [32, 128, 10], [128, 32, 128], [784, 32, 128], [1000, 784, 128], [128, 128, 32], [10, 128, 32]];
    for (const [m, n, p] of shapes) {
      const a = random([m, n], m + n);
      const b = random([n, p], n + p);
      if (gemmWorthIt(m, p)) expect(firstBitDifference(await onGemm(a, b), await own(a, b)), `${m} x ${n} x ${p}`).toBe(-1);
      tf.dispose([a, b]);
    }
  });

  it('wasm GEMM - batches: equal batch shapes and one matrix against a batch, as BatchMatMul broadcasts them', async () => {
    for (const [sa, sb] of [[[3, 8, 20], [3, 20, 16]], [[8, 20], [2, 3, 20, 16]], [[2, 3, 8, 20], [20, 16]]]) {
      const a = random(sa, 5);
      const b = random(sb, 6);
      const g = await onGemm(a, b);
      expect(firstBitDifference(g, await own(a, b))).toBe(-1);
      tf.dispose([a, b]);
    }
  });

  it('wasm GEMM - infinities and NaN propagate as in IEEE arithmetic: inf stays inf, inf - inf and 0 x inf are NaN', async () => {
    const a = random([8, 16], 11, [Infinity, -Infinity, NaN]);
    const b = random([16, 8], 12, [Infinity]);
    const g = await onGemm(a, b);
    const x = await own(a, b);
    expect(firstBitDifference(g, x)).toBe(-1);
    expect(g.some((v) => Number.isNaN(v))).toBe(true);
    tf.dispose([a, b]);
  });

  it('wasm GEMM - tf.matMul and the stacked kernel take it by default; transposed operands and narrow outputs stay with the backend', async () => {
    expect(gemmProducts()).toBe(true);
    const a = random([32, 64], 21);
    const b = random([64, 24], 22);
    const viaOp = tf.matMul(a, b);
    expect(firstBitDifference((await viaOp.data()) as Float32Array, await onGemm(a, b))).toBe(-1);
    const stacked = stackedMatMul(tf.stack([a, a]), tf.stack([b, b]));
    const half = ((await stacked.data()) as Float32Array).subarray(0, 32 * 24);
    expect(firstBitDifference(Float32Array.from(half), (await viaOp.data()) as Float32Array)).toBe(-1);
    const args = (ta: boolean, tb: boolean): Parameters<typeof gemmBatchMatMul>[0] => ({ inputs: { a, b: a }, backend: tf.backend(), attrs: { transposeA: ta, transposeB: tb } });
    expect(gemmBatchMatMul(args(true, false))).toBeUndefined();
    expect(gemmBatchMatMul(args(false, true))).toBeUndefined();
    const narrow = random([64, 3], 23);
    expect(gemmBatchMatMul({ inputs: { a, b: narrow }, backend: tf.backend(), attrs: { transposeA: false, transposeB: false } })).toBeUndefined();
    tf.dispose([a, b, viaOp, stacked, narrow]);
  });

  it('wasm GEMM - NPF_WASM_MATMUL: gemm by default, xnnpack turns it off, anything else is an error naming the variable', () => {
    expect(wasmMatMulFromEnv({})).toBe('gemm');
    expect(wasmMatMulFromEnv({ NPF_WASM_MATMUL: 'xnnpack' })).toBe('xnnpack');
    expect(() => wasmMatMulFromEnv({ NPF_WASM_MATMUL: 'blas' })).toThrow('NPF_WASM_MATMUL="blas": expected "gemm" (the default) or "xnnpack"');
    setWasmProducts(undefined, XNNPACK);
    expect(gemmProducts()).toBe(false);
    setWasmProducts(undefined, {});
    expect(gemmProducts()).toBe(true);
  });

  it('wasm GEMM - an output that makes the heap grow: the module sees the grown memory, the result is still exact', async () => {
    const memory = (tf.backend() as unknown as { wasm: { asm: { memory: { buffer: ArrayBuffer } } } }).wasm.asm.memory;
    const before = memory.buffer.byteLength;
    const a = random([2048, 16], 31);
    const b = random([16, 4096], 32);
    // 32 MiB of output (beyond what the earlier tests left free), allocated inside the kernel.
    const g = await onGemm(a, b);
    expect(memory.buffer.byteLength).toBeGreaterThan(before);
    expect(firstBitDifference(g, await own(a, b))).toBe(-1);
    tf.dispose([a, b]);
  });

  it('wasm GEMM - a backend whose memory the module cannot import keeps its own products, with one warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    const odd = { wasm: { asm: { memory: {} } }, dataIdMap: new WeakMap(), makeOutput: () => undefined } as unknown as GemmBackend;
    try {
      expect(gemmModuleOf(odd)).toBeUndefined();
      expect(gemmModuleOf(odd)).toBeUndefined();
      const a = random([8, 8], 41);
      expect(gemmBatchMatMul({ inputs: { a, b: a }, backend: odd, attrs: { transposeA: false, transposeB: false } })).toBeUndefined();
      a.dispose();
      // process.emitWarning delivers on a later tick.
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.includes('the wasm GEMM could not be set up'))).toHaveLength(1);
  });

  it('wasm GEMM - the module is valid WebAssembly', () => {
    const api = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
    expect(api.validate(gemmModuleBytes())).toBe(true);
  });
});
