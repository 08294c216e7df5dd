/** Test helpers: a seeded PRNG and random tiny networks (not a test file). */
import type { FcNet } from '../../science/npk/gated-network.js';
import { layerShape } from '../../science/npk/gated-network.js';
import { mulberry32 } from '../../science/models/prng.js';

/** Seeded uniform numbers in [0, 1): the project's mulberry32 (science/models/prng.ts). */
export function rng(seed: number): () => number {
  const r = mulberry32(seed);
  return () => r.next();
}

/** Standard normal by Box-Muller. */
export function normal(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export function randomNet(rand: () => number, dIn: number, width: number, hidden: number): FcNet {
  const layers: Float64Array[] = [];
  for (let l = 1; l <= hidden + 1; l++) {
    const [fanIn, fanOut] = layerShape({ dIn, width, hidden }, l);
    layers.push(Float64Array.from({ length: fanIn * fanOut }, () => normal(rand) * Math.sqrt(2 / fanIn)));
  }
  return { dIn, width, hidden, layers };
}

export function randomMatrix(rand: () => number, rows: number, cols: number): Float64Array {
  return Float64Array.from({ length: rows * cols }, () => normal(rand));
}

export function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
}

/** Max |a - b| / max |b| over two arrays. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  if (den === 0) return num === 0 ? 0 : Number.POSITIVE_INFINITY;
  return num / den;
}
