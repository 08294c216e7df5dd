import { describe, expect, it } from 'vitest';
import { cholesky, choleskySolve } from '../../science/npk/cholesky.js';
import { conditionNumber, symmetricEigen, symmetricEigenvalues } from '../../science/npk/symmetric-eigen.js';
import { NpkNumericError } from '../../science/npk/errors.js';
import { maxRelErr, normal, randomMatrix, rng } from './seeded.js';

/** A random orthogonal n x n matrix (Gram-Schmidt of a Gaussian matrix), row-major. */
function randomOrthogonal(rand: () => number, n: number): Float64Array {
  const q = randomMatrix(rand, n, n);
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += q[i * n + j] * q[i * n + k];
      for (let i = 0; i < n; i++) q[i * n + j] -= dot * q[i * n + k];
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += q[i * n + j] ** 2;
    for (let i = 0; i < n; i++) q[i * n + j] /= Math.sqrt(norm);
  }
  return q;
}

/** Q diag(lambda) Q^T. */
function withSpectrum(q: Float64Array, lambda: number[]): Float64Array {
  const n = lambda.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * lambda[k] * q[j * n + k];
      a[i * n + j] = s;
    }
  }
  return a;
}

function matVec(a: Float64Array, x: ArrayLike<number>, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) y[i] += a[i * n + j] * x[j];
  return y;
}

describe('npk - symmetric eigenvalues', () => {
  it('recovers a known spectrum, including repeated and negative eigenvalues', () => {
    const rand = rng(42);
    for (const n of [1, 2, 5, 30]) {
      const lambda = Array.from({ length: n }, (_, k) => (k % 3 === 0 ? 2 : normal(rand) * 3));
      const got = symmetricEigenvalues(withSpectrum(randomOrthogonal(rand, n), lambda), n);
      const want = Float64Array.from(lambda).sort();
      for (let k = 0; k < n; k++) expect(Math.abs(got[k] - want[k])).toBeLessThan(1e-10 * Math.max(1, Math.abs(want[n - 1])));
    }
  });

  it('handles diagonal, zero and tridiagonal matrices', () => {
    expect(Array.from(symmetricEigenvalues([3, 0, 0, 0, -1, 0, 0, 0, 2], 3))).toEqual([-1, 2, 3]);
    expect(Array.from(symmetricEigenvalues(new Float64Array(16), 4))).toEqual([0, 0, 0, 0]);
    // [[2,1],[1,2]] has eigenvalues 1 and 3.
    const e = symmetricEigenvalues([2, 1, 1, 2], 2);
    expect(e[0]).toBeCloseTo(1, 12);
    expect(e[1]).toBeCloseTo(3, 12);
  });

  it('rejects NaN entries with a typed error', () => {
    expect(() => symmetricEigenvalues([1, NaN, NaN, 1], 2)).toThrow(NpkNumericError);
    expect(() => symmetricEigen([1, NaN, NaN, 1], 2)).toThrow(NpkNumericError);
  });

  it('eigenvectors: A V = V diag(lambda) and V^T V = I, with repeated, zero and negative eigenvalues; same values as symmetricEigenvalues', () => {
    const rand = rng(7);
    for (const n of [1, 2, 3, 8, 40]) {
      const lambda = Array.from({ length: n }, (_, k) => (k % 4 === 0 ? 0 : k % 4 === 1 ? 1.5 : normal(rand) * 2));
      const a = withSpectrum(randomOrthogonal(rand, n), lambda);
      const { values, vectors } = symmetricEigen(a, n);
      expect(Array.from(values)).toEqual(Array.from(symmetricEigenvalues(a, n)));
      for (let k = 1; k < n; k++) expect(values[k]).toBeGreaterThanOrEqual(values[k - 1]);
      for (let k = 0; k < n; k++) {
        const v = Array.from({ length: n }, (_, i) => vectors[i * n + k]);
        const av = matVec(a, v, n);
        for (let i = 0; i < n; i++) expect(Math.abs(av[i] - values[k] * v[i])).toBeLessThan(1e-12 * Math.max(1, ...lambda.map(Math.abs)));
        for (let j = 0; j < n; j++) {
          let dot = 0;
          for (let i = 0; i < n; i++) dot += vectors[i * n + k] * vectors[i * n + j];
          expect(Math.abs(dot - (j === k ? 1 : 0))).toBeLessThan(1e-12);
        }
      }
    }
    // [[2,1],[1,2]]: 1 on (1,-1)/sqrt(2), 3 on (1,1)/sqrt(2) (up to sign).
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
    expect(values[0]).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[0] * vectors[2] + vectors[1] * vectors[3])).toBeLessThan(1e-12);
    expect(Math.abs(vectors[0] + vectors[2])).toBeLessThan(1e-12);
  });

  it('condition number is max|lambda| / min|lambda|, capped at 1/eps for singular matrices', () => {
    expect(conditionNumber([0.5, 2, -4])).toBe(8);
    expect(conditionNumber([0, 1])).toBeCloseTo(1 / Number.EPSILON, 0);
    expect(Number.isFinite(conditionNumber([0, 0]))).toBe(true);
  });
});

describe('npk - Cholesky', () => {
  it('solves an SPD system and reproduces A = L L^T', () => {
    const rand = rng(9);
    const n = 12;
    const b = randomMatrix(rand, n, n);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += b[i * n + k] * b[j * n + k];
    const f = cholesky(a, n);
    if (!f.ok) throw new Error('expected SPD');
    const llt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) llt[i * n + j] += f.l[i * n + k] * f.l[j * n + k];
    expect(maxRelErr(llt, a)).toBeLessThan(1e-12);
    const x = randomMatrix(rand, n, 1);
    expect(maxRelErr(choleskySolve(f.l, matVec(a, x, n), n), x)).toBeLessThan(1e-8);
  });

  it('reports failure (no throw) on indefinite and singular matrices', () => {
    const indefinite = cholesky([1, 2, 2, 1], 2);
    expect(indefinite.ok).toBe(false);
    if (!indefinite.ok) expect(indefinite.failedAt).toBe(1);
    expect(cholesky([1, 1, 1, 1], 2).ok).toBe(false);
  });
});
