/**
 * Initial weights as plain Float32Arrays, drawn from the trial's own PRNG (so the same seed gives
 * the same network on every backend).
 */
import type { Rng } from './prng.js';

/**
 * Keras' default kernel initialiser: Glorot (Xavier) uniform, U(-l, l) with
 * l = sqrt(6 / (fanIn + fanOut)). For a conv kernel kh x kw x cin x cout, fanIn = kh*kw*cin and
 * fanOut = kh*kw*cout.
 */
export function glorotUniform(size: number, fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (2 * rng.next() - 1) * limit;
  return out;
}

/**
 * The nu_t notebook's initialiser (Figure 2, middle): each weight is +sqrt(2/width) or
 * -sqrt(2/width) with equal probability.
 */
export function signSqrt2(size: number, width: number, rng: Rng): Float32Array {
  const s = Math.sqrt(2 / width);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.next() < 0.5 ? -s : s;
  return out;
}
