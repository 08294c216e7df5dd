/**
 * Cholesky factorisation A = L L^T of a symmetric positive-definite matrix, float64, and the
 * triangular solves that use it. Small dense matrices (n up to a few hundred); O(n^3 / 3).
 */
import { expectLength, expectPositiveInt } from './errors.js';

export type CholeskyResult =
  | { ok: true; /** Lower-triangular factor, n x n row-major (upper part zero). */ l: Float64Array }
  | { ok: false; /** Row at which a non-positive (or non-finite) pivot appeared. */ failedAt: number; pivot: number };

/**
 * Factors `a` (n x n row-major, only the lower triangle is read). Fails, rather than throwing,
 * when a pivot is not strictly positive: the caller decides what to do (e.g. add a ridge).
 */
export function cholesky(a: ArrayLike<number>, n: number): CholeskyResult {
  expectPositiveInt('n', n);
  expectLength('a', a, n * n, `an n x n matrix, n = ${n}`);
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const io = i * n;
    for (let j = 0; j <= i; j++) {
      const jo = j * n;
      let s = a[io + j];
      for (let k = 0; k < j; k++) s -= l[io + k] * l[jo + k];
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return { ok: false, failedAt: i, pivot: s };
        l[io + i] = Math.sqrt(s);
      } else {
        l[io + j] = s / l[jo + j];
      }
    }
  }
  return { ok: true, l };
}

/** Solves L w = b (forward substitution) for lower-triangular L (n x n row-major). */
export function forwardSubstitute(l: Float64Array, b: ArrayLike<number>, n: number): Float64Array {
  expectLength('b', b, n, 'one right-hand side entry per row');
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const io = i * n;
    for (let k = 0; k < i; k++) s -= l[io + k] * w[k];
    w[i] = s / l[io + i];
  }
  return w;
}

/** Solves L^T z = w (back substitution) for lower-triangular L (n x n row-major). */
export function backSubstitute(l: Float64Array, w: ArrayLike<number>, n: number): Float64Array {
  expectLength('w', w, n, 'one right-hand side entry per row');
  const z = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = w[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * z[k];
    z[i] = s / l[i * n + i];
  }
  return z;
}

/** Solves A z = b given the Cholesky factor L of A. */
export function choleskySolve(l: Float64Array, b: ArrayLike<number>, n: number): Float64Array {
  return backSubstitute(l, forwardSubstitute(l, b, n), n);
}
