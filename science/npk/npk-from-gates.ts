/**
 * The neural path kernel computed layer by layer (section 4.1), never enumerating paths:
 * O(n^2 (dIn + (d-1) w)) work for n inputs.
 */
import { NpkShapeError, expectLength, expectPositiveInt } from './errors.js';

/**
 * How tau is scaled before the product over layers.
 * - 'count' (default): tau(s, s', l) exactly as Definition 4.2 (a count of shared active gates for
 *   0/1 gates). Lambda is at most w^(d-1) (128^5 ~ 3.4e10 for the paper's FC net), far from the
 *   float64 range (1.8e308), so overflow is not a concern for any network that fits in memory.
 * - 'per-layer-fraction': tau / w, the fraction of the layer's gates on for both inputs; Lambda is
 *   then in [0, 1] for 0/1 gates. This is Lambda * w^-(d-1), a constant factor that cancels in
 *   H_hat = H / trace(H), so nu is unchanged. Offered for callers that store Lambda in float32.
 */
export type LambdaScale = 'count' | 'per-layer-fraction';

export interface NpkFromGatesOptions {
  /** Default 'count'. */
  scale?: LambdaScale;
}

export interface NpkMatrices {
  /** Lambda, n x n row-major (Definition 4.2). */
  lambda: Float64Array;
  /** Sigma = X X^T, n x n row-major (Lemma 4.1). */
  sigma: Float64Array;
  /** H = Sigma (Hadamard) Lambda, n x n row-major (Lemma 4.1). */
  h: Float64Array;
}

/** Gram matrix A A^T (n x n, float64) of a row-major n x k matrix, by symmetric fill. */
export function gram(a: ArrayLike<number>, n: number, k: number): Float64Array {
  const out = new Float64Array(n * n);
  const row = new Float64Array(k);
  for (let s = 0; s < n; s++) {
    const so = s * k;
    for (let c = 0; c < k; c++) row[c] = a[so + c];
    for (let t = s; t < n; t++) {
      const to = t * k;
      let acc = 0;
      for (let c = 0; c < k; c++) acc += row[c] * a[to + c];
      out[s * n + t] = acc;
      out[t * n + s] = acc;
    }
  }
  return out;
}

/**
 * Lambda and H for n inputs from per-layer gate activity.
 *
 * Definition 4.2: tau(s, s', l) = sum_i G(x_s, l, i) G(x_s', l, i), i.e. tau(., ., l) = A_l A_l^T,
 * and Lambda(s, s') = prod_{l=1}^{d-1} tau(s, s', l).
 * Lemma 4.1: H = Sigma (Hadamard) Lambda with Sigma = X X^T, which equals Phi^T Phi (Definition 4.1).
 *
 * @param gates one row-major n x width matrix A_l per hidden layer l = 1..d-1: 0/1 gate activity
 *   for hard (ReLU) gates, or soft gate values. Accumulation is in float64 whatever the input type.
 * @param width w, gates per layer.
 * @param X row-major n x dIn inputs.
 */
export function npkFromGates(
  gates: ArrayLike<number>[],
  width: number,
  X: ArrayLike<number>,
  n: number,
  dIn: number,
  options: NpkFromGatesOptions = {},
): NpkMatrices {
  expectPositiveInt('n', n);
  expectPositiveInt('dIn', dIn);
  expectPositiveInt('width', width);
  if (gates.length === 0) throw new NpkShapeError('gates is empty: need one gate matrix per hidden layer.', { field: 'gates' });
  expectLength('X', X, n * dIn, `n x dIn = ${n} x ${dIn} inputs`);
  gates.forEach((g, l) => expectLength(`gates[${l}]`, g, n * width, `A_${l + 1} is n x w = ${n} x ${width}`));
  const scale = options.scale ?? 'count';
  if (scale !== 'count' && scale !== 'per-layer-fraction') {
    throw new NpkShapeError(`options.scale must be 'count' or 'per-layer-fraction', got ${String(scale)}.`, { field: 'scale', value: scale });
  }
  const factor = scale === 'count' ? 1 : 1 / width;

  const lambda = new Float64Array(n * n).fill(1);
  for (const a of gates) {
    const tau = gram(a, n, width);
    for (let k = 0; k < lambda.length; k++) lambda[k] *= tau[k] * factor;
  }
  const sigma = gram(X, n, dIn);
  const h = new Float64Array(n * n);
  for (let k = 0; k < h.length; k++) h[k] = sigma[k] * lambda[k];
  return { lambda, sigma, h };
}
