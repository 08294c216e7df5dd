/**
 * Frozen hard gates, computed once per example instead of once per step.
 *
 * In FRNPF-II, FRNPF-DI, FLNPF and stage k the gating network never trains, so the gates of a
 * training example, 1[q > 0] at every hidden unit, are the same in every epoch. A stacked step
 * spends about a third of its products recomputing them (the feature network's forward pass).
 * This module computes every member's gates for a whole example set once, keeps them as bits
 * (one byte holds 8 units: 80 bytes per MNIST example for 5 x 128 units, 4.8 MB per member for
 * the training set), and unpacks the rows a step needs into 0/1 floats.
 *
 * The bits are the gates the step would compute: the same 2-D products per member (the feature
 * kernel on the left, the examples on the right), whose sums do not depend on how many examples
 * are on the right on backends that reduce in a fixed order (wasm's XNNPACK, cpu). Where that is
 * not guaranteed (webgpu picks its shader by the product's size), the caller does not cache
 * (fusedTrainLoop's `cacheGates`). test/fused/gate-cache.test.ts checks the bits against the
 * per-batch gates, and the fused-vs-unfused tests check whole runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BatchSource } from '../train/batches.js';

/** Where each layer's units sit in one example's bytes: each layer starts on a byte. */
export interface GateLayout {
  widths: number[];
  /** First byte of each layer within an example. */
  offsets: number[];
  bytesPerExample: number;
}

export function gateLayout(widths: readonly number[]): GateLayout {
  const offsets: number[] = [];
  let bytes = 0;
  for (const w of widths) {
    offsets.push(bytes);
    bytes += Math.ceil(w / 8);
  }
  return { widths: [...widths], offsets, bytesPerExample: bytes };
}

/**
 * Write member j's gates for `rows` consecutive examples from `gates` (per layer, [K, rows, w]
 * floats, 0 or 1) into `bits[j]`, starting at example `first`.
 */
export function packGates(layout: GateLayout, gates: readonly Float32Array[], members: number, rows: number, first: number, bits: readonly Uint8Array[]): void {
  const { widths, offsets, bytesPerExample } = layout;
  for (let l = 0; l < widths.length; l++) {
    const w = widths[l];
    const g = gates[l];
    for (let j = 0; j < members; j++) {
      const out = bits[j];
      for (let i = 0; i < rows; i++) {
        const src = (j * rows + i) * w;
        const dst = (first + i) * bytesPerExample + offsets[l];
        for (let u = 0; u < w; u += 8) {
          let byte = 0;
          const end = Math.min(8, w - u);
          for (let t = 0; t < end; t++) if (g[src + u + t] > 0) byte |= 1 << t;
          out[dst + (u >> 3)] = byte;
        }
      }
    }
  }
}

/**
 * The gates of `size` rows for each member, per layer a [K * size * w] array of 0/1 floats
 * (member-major): row i of member j is example `exampleOf(j, i)` of `bits[j]`.
 */
export function unpackGates(layout: GateLayout, bits: readonly Uint8Array[], size: number, exampleOf: (member: number, row: number) => number): Float32Array[] {
  const { widths, offsets, bytesPerExample } = layout;
  const k = bits.length;
  const out = widths.map((w) => new Float32Array(k * size * w));
  for (let j = 0; j < k; j++) {
    const b = bits[j];
    for (let i = 0; i < size; i++) {
      const base = exampleOf(j, i) * bytesPerExample;
      for (let l = 0; l < widths.length; l++) {
        const w = widths[l];
        const o = out[l];
        let dst = (j * size + i) * w;
        const src = base + offsets[l];
        for (let u = 0; u < w; u += 8) {
          const byte = b[src + (u >> 3)];
          const end = Math.min(8, w - u);
          if (byte !== 0) for (let t = 0; t < end; t++) o[dst + t] = (byte >> t) & 1; // else already zero
          dst += end;
        }
      }
    }
  }
  return out;
}

/** As unpackGates, as tensors [K, size, w] (the caller disposes them, or calls inside tf.tidy). */
export function gateTensors(layout: GateLayout, bits: readonly Uint8Array[], size: number, exampleOf: (member: number, row: number) => number): tf.Tensor3D[] {
  return unpackGates(layout, bits, size, exampleOf).map((g, l) => tf.tensor3d(g, [bits.length, size, layout.widths[l]]));
}

/** The most the cache may hold for one stack (all members, training and test sets): 256 MiB. */
export const GATE_CACHE_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Whether a stack of k members caches its gates for `examples` examples: only within
 * `maxBytes` (MNIST at K = 8: 45 MB). Beyond it the stack computes its gates every step, as it
 * does without a cache; results are the same either way.
 */
export function gateCacheFits(layout: GateLayout, k: number, examples: number, maxBytes = GATE_CACHE_MAX_BYTES): boolean {
  return k * examples * layout.bytesPerExample <= maxBytes;
}

/** What computing the gates needs from the stacked model. */
export interface GateSource {
  readonly size: number;
  /** The frozen gates ([K, B, w] per layer) of a batch x [B, inputs] shared by every member. */
  frozenGates(x: tf.Tensor): tf.Tensor[];
}

/**
 * Every member's gates for every example of `src`, as bits (one Uint8Array per member, in stack
 * order), computed `chunk` examples at a time. Reads are asynchronous (`data()`).
 */
export async function computeGateBits(model: GateSource, layout: GateLayout, src: BatchSource, exampleSize: number, chunk = 1000): Promise<Uint8Array[]> {
  const k = model.size;
  const bits = Array.from({ length: k }, () => new Uint8Array(src.n * layout.bytesPerExample));
  for (let first = 0; first < src.n; first += chunk) {
    const rows = Math.min(chunk, src.n - first);
    const gates = tf.tidy(() => model.frozenGates(tf.tensor2d(src.x.subarray(first * exampleSize, (first + rows) * exampleSize), [rows, exampleSize])));
    try {
      const data = (await Promise.all(gates.map((g) => g.data()))) as Float32Array[];
      packGates(layout, data, k, rows, first, bits);
    } finally {
      for (const g of gates) g.dispose();
    }
  }
  return bits;
}
