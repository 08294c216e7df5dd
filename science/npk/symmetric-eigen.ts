/**
 * Eigenvalues (and, on request, eigenvectors) of a real symmetric matrix: Householder reduction to
 * tridiagonal form followed by the implicit QL algorithm with Wilkinson-type shifts (the classic
 * tred2/tqli pair). O(4/3 n^3) for the reduction, O(n^3) more to accumulate eigenvectors; n = 200
 * takes a few milliseconds. Chosen over cyclic Jacobi, which needs several O(n^3) sweeps and is an
 * order of magnitude slower at n = 400.
 */
import { NpkNumericError, expectLength, expectPositiveInt } from './errors.js';

const MAX_QL_ITERATIONS = 60;

/** Eigen-decomposition A = V diag(values) V^T. */
export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** Orthonormal eigenvectors as the columns of an n x n row-major matrix, in the order of `values`. */
  vectors: Float64Array;
}

/**
 * All eigenvalues of the symmetric n x n row-major matrix `a` (only the lower triangle is read),
 * sorted ascending. Throws NpkNumericError('NO_CONVERGENCE') if QL does not converge, or
 * ('NOT_FINITE') if `a` holds NaN or Inf.
 */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  const m = workingCopy(a, n);
  const d = new Float64Array(n + 1);
  const e = new Float64Array(n + 1);
  tridiagonalise(m, n, d, e, false);
  implicitQl(d, e, n, undefined);
  return d.slice(1).sort();
}

/**
 * Eigenvalues and orthonormal eigenvectors of the symmetric n x n row-major matrix `a` (only the
 * lower triangle is read), sorted by ascending eigenvalue. Same errors as symmetricEigenvalues.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  const m = workingCopy(a, n);
  const d = new Float64Array(n + 1);
  const e = new Float64Array(n + 1);
  tridiagonalise(m, n, d, e, true);
  // QL rotates pairs of columns of Q; on the transpose they are pairs of contiguous rows.
  const qt: Float64Array[] = [new Float64Array(0)];
  for (let j = 1; j <= n; j++) {
    const row = new Float64Array(n + 1);
    for (let i = 1; i <= n; i++) row[i] = m[i][j];
    qt.push(row);
  }
  implicitQl(d, e, n, qt);
  const order = Array.from({ length: n }, (_, k) => k + 1).sort((i, j) => d[i] - d[j]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, k) => {
    values[k] = d[src];
    for (let i = 0; i < n; i++) vectors[i * n + k] = qt[src][i + 1];
  });
  return { values, vectors };
}

/** 1-based working copy (the textbook formulation keeps the index algebra honest). */
function workingCopy(a: ArrayLike<number>, n: number): Float64Array[] {
  expectPositiveInt('n', n);
  expectLength('a', a, n * n, `an n x n matrix, n = ${n}`);
  const m: Float64Array[] = [new Float64Array(0)];
  for (let i = 1; i <= n; i++) {
    const row = new Float64Array(n + 1);
    for (let j = 1; j <= n; j++) {
      const v = a[(i - 1) * n + (j - 1)];
      if (!Number.isFinite(v)) {
        throw new NpkNumericError('NOT_FINITE', `matrix entry (${i - 1}, ${j - 1}) is ${v}; eigenvalues need finite entries.`, {
          row: i - 1,
          col: j - 1,
        });
      }
      row[j] = v;
    }
    m.push(row);
  }
  return m;
}

/**
 * Householder reduction of the lower triangle of a to tridiagonal (diagonal d, sub-diagonal
 * e[2..n]). With `vectors`, a is overwritten by the orthogonal matrix Q of the reduction (the
 * upper triangle stores the Householder vectors on the way; the reduction itself reads only the
 * lower triangle, so the eigenvalues do not depend on the flag).
 */
function tridiagonalise(a: Float64Array[], n: number, d: Float64Array, e: Float64Array, vectors: boolean): void {
  for (let i = n; i >= 2; i--) {
    const l = i - 1;
    let h = 0;
    if (l > 1) {
      let scale = 0;
      for (let k = 1; k <= l; k++) scale += Math.abs(a[i][k]);
      if (scale === 0) {
        e[i] = a[i][l];
      } else {
        for (let k = 1; k <= l; k++) {
          a[i][k] /= scale;
          h += a[i][k] * a[i][k];
        }
        let f = a[i][l];
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        a[i][l] = f - g;
        f = 0;
        for (let j = 1; j <= l; j++) {
          if (vectors) a[j][i] = a[i][j] / h;
          g = 0;
          for (let k = 1; k <= j; k++) g += a[j][k] * a[i][k];
          for (let k = j + 1; k <= l; k++) g += a[k][j] * a[i][k];
          e[j] = g / h;
          f += e[j] * a[i][j];
        }
        const hh = f / (h + h);
        for (let j = 1; j <= l; j++) {
          f = a[i][j];
          g = e[j] - hh * f;
          e[j] = g;
          for (let k = 1; k <= j; k++) a[j][k] -= f * e[k] + g * a[i][k];
        }
      }
    } else {
      e[i] = a[i][l];
    }
    d[i] = h;
  }
  e[1] = 0;
  if (!vectors) {
    for (let i = 1; i <= n; i++) d[i] = a[i][i];
    return;
  }
  d[1] = 0;
  for (let i = 1; i <= n; i++) {
    const l = i - 1;
    if (d[i] !== 0) {
      for (let j = 1; j <= l; j++) {
        let g = 0;
        for (let k = 1; k <= l; k++) g += a[i][k] * a[k][j];
        for (let k = 1; k <= l; k++) a[k][j] -= g * a[k][i];
      }
    }
    d[i] = a[i][i];
    a[i][i] = 1;
    for (let j = 1; j <= l; j++) a[j][i] = a[i][j] = 0;
  }
}

/**
 * Implicit QL on the tridiagonal (d, e); eigenvalues are left in d[1..n]. With zt (the transpose
 * of the reduction's Q, one row per column of Q), its rows become the eigenvectors of the
 * original matrix: row i belongs to d[i].
 */
function implicitQl(d: Float64Array, e: Float64Array, n: number, zt: Float64Array[] | undefined): void {
  for (let i = 2; i <= n; i++) e[i - 1] = e[i];
  e[n] = 0;
  for (let l = 1; l <= n; l++) {
    let iter = 0;
    let m: number;
    do {
      for (m = l; m <= n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m !== l) {
        if (iter++ === MAX_QL_ITERATIONS) {
          throw new NpkNumericError('NO_CONVERGENCE', `symmetric eigen-solver did not converge for eigenvalue ${l - 1} of ${n}.`, {
            index: l - 1,
            n,
          });
        }
        let g = (d[l + 1] - d[l]) / (2 * e[l]);
        let r = Math.hypot(g, 1);
        g = d[m] - d[l] + e[l] / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
        let s = 1;
        let c = 1;
        let p = 0;
        let i: number;
        let deflated = false;
        for (i = m - 1; i >= l; i--) {
          const f = s * e[i];
          const b = c * e[i];
          r = Math.hypot(f, g);
          e[i + 1] = r;
          if (r === 0) {
            d[i + 1] -= p;
            e[m] = 0;
            deflated = true;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1] - p;
          r = (d[i] - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
          if (zt) {
            const zi = zt[i];
            const zi1 = zt[i + 1];
            for (let k = 1; k <= n; k++) {
              const zf = zi1[k];
              zi1[k] = s * zi[k] + c * zf;
              zi[k] = c * zi[k] - s * zf;
            }
          }
        }
        if (deflated) continue;
        d[l] -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
}

/**
 * 2-norm condition number of a symmetric matrix from its eigenvalues: max|lambda| / min|lambda|.
 * An eigenvalue below machine epsilon times the largest is rounding noise, so the result is
 * capped at 1 / Number.EPSILON (~4.5e15), meaning "singular to working precision"; this keeps the
 * value finite (JSON has no Infinity). A zero matrix gives Number.MAX_VALUE.
 */
export function conditionNumber(eigenvalues: ArrayLike<number>): number {
  let maxAbs = 0;
  let minAbs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < eigenvalues.length; i++) {
    const v = Math.abs(eigenvalues[i]);
    if (v > maxAbs) maxAbs = v;
    if (v < minAbs) minAbs = v;
  }
  if (maxAbs === 0) return Number.MAX_VALUE;
  return maxAbs / Math.max(minAbs, Number.EPSILON * maxAbs);
}
