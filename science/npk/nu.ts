/**
 * nu = y^T H_hat^{-1} y with H_hat = H / trace(H) (docs/protocol.md "NPK experiment", Figure 2
 * middle): the NPK analogue of the y^T K^{-1} y term in NTK generalisation bounds (section 1). A
 * smaller nu means the labels are better aligned with the gates' kernel. The method: docs/nu.md.
 */
import { NpkNumericError, NpkShapeError, expectLength, expectPositiveInt } from './errors.js';
import { symmetricEigen } from './symmetric-eigen.js';

export interface NuOptions {
  /**
   * C in the cut-off: eigenvalues of H_hat at or below lambda_max * n * eps_float64 * C are
   * treated as zero (NumPy's matrix_rank convention for C = 1). Default 1.
   */
  cutoffFactor?: number;
  /**
   * Largest share ||P_null y||^2 / ||y||^2 of y in the numerical null space for which nu is still
   * reported (as the pseudo-inverse value): below it the component is at the level of the
   * eigenvectors' rounding error. Default 1e-8.
   */
  nullSpaceTolerance?: number;
}

/**
 * How nu was obtained:
 * - 'full-rank': every eigenvalue of H_hat is above the cut-off; nu = y^T H_hat^{-1} y exactly.
 * - 'pseudo-inverse': H_hat is numerically singular but y lies in its range (null-space share
 *   within tolerance); nu = y^T H_hat^+ y, the limit of y^T (H_hat + r I)^{-1} y as r -> 0.
 * - 'undefined': y has a component in the null space; y^T H_hat^{-1} y is infinite (any finite
 *   number, e.g. from a ridge, would only measure the ridge), so nu is not reported.
 */
export type NuMethod = 'full-rank' | 'pseudo-inverse' | 'undefined';

export interface NuResult {
  /** nu, or null when method is 'undefined'. */
  nu: number | null;
  method: NuMethod;
  /** Why nu is undefined (method 'undefined' only). */
  reason?: string;
  /** Numerical rank: eigenvalues above the cut-off. */
  rank: number;
  /** The relative cut-off used: n * eps_float64 * C (eigenvalues <= cutoff * lambda_max count as zero). */
  cutoff: number;
  /** ||P_null y||^2 / ||y||^2: the share of y in the numerical null space (0 at full rank). */
  nullSpaceFraction: number;
  /** y^T H_hat^+ y on the kept spectrum, reported even when nu is undefined (for diagnosis only). */
  rangeNu: number;
  /**
   * 2-norm condition number of H_hat, lambda_max / lambda_min; capped at 1 / eps_float64 when
   * lambda_min is at or below rounding level (JSON has no Infinity).
   */
  conditionNumber: number;
  /** trace(H) before normalisation. */
  trace: number;
}

/**
 * nu = y^T H_hat^{-1} y, H_hat = H / trace(H), from the eigen-decomposition of H_hat in float64:
 * nu = sum over eigenvalues lambda_i > cutoff * lambda_max of (v_i^T y)^2 / lambda_i.
 *
 * H is singular whenever two inputs coincide, or an input's gates are all off in some layer (its
 * row of Lambda, hence of H, is zero). Then y^T H^{-1} y is finite only if y lies in H's range;
 * otherwise it is infinite, and a ridge-regularised value is ||P_null y||^2 / r plus a bounded
 * rest: a number made by the ridge, not by the kernel. This function never returns such a number:
 * it reports 'undefined' with the reason (and the share of y in the null space).
 *
 * @param h H, n x n row-major, symmetric positive semi-definite (e.g. from npkFromGates).
 * @param y labels (for the binary-MNIST experiment: -1 for digit 4, +1 for digit 7).
 * @throws NpkNumericError 'NOT_FINITE' for a zero, negative or non-finite trace (a network whose
 *   paths are all inactive has H = 0 and no nu); NpkShapeError for bad sizes, labels or options.
 */
export function nuFromNpk(h: ArrayLike<number>, y: ArrayLike<number>, options: NuOptions = {}): NuResult {
  const n = y.length;
  expectPositiveInt('y.length', n);
  expectLength('h', h, n * n, `H is n x n with n = y.length = ${n}`);
  const cutoffFactor = options.cutoffFactor ?? 1;
  const nullSpaceTolerance = options.nullSpaceTolerance ?? 1e-8;
  if (!(cutoffFactor > 0) || !Number.isFinite(cutoffFactor) || !(nullSpaceTolerance >= 0) || !(nullSpaceTolerance < 1)) {
    throw new NpkShapeError(`nu options need cutoffFactor > 0 (finite) and 0 <= nullSpaceTolerance < 1, got ${cutoffFactor}, ${nullSpaceTolerance}.`, {
      field: 'options',
      cutoffFactor,
      nullSpaceTolerance,
    });
  }
  let yy = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(y[i])) throw new NpkShapeError(`y[${i}] is ${y[i]}; labels must be finite.`, { field: `y[${i}]`, value: y[i] });
    yy += y[i] * y[i];
  }
  if (yy === 0) throw new NpkShapeError('y is all zeros; nu needs a non-zero label vector.', { field: 'y' });

  let trace = 0;
  for (let i = 0; i < n; i++) trace += h[i * n + i];
  if (!(trace > 0) || !Number.isFinite(trace)) {
    throw new NpkNumericError('NOT_FINITE', `trace(H) is ${trace}; nu needs H with a positive finite trace (are all gates off?).`, { trace });
  }
  // Symmetrise while normalising: H is symmetric in exact arithmetic, rounding may break it slightly.
  const hHat = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) hHat[i * n + j] = (h[i * n + j] + h[j * n + i]) / (2 * trace);
  }
  const { values, vectors } = symmetricEigen(hHat, n);
  const lambdaMax = values[n - 1];
  const cutoff = n * Number.EPSILON * cutoffFactor;
  const threshold = cutoff * lambdaMax;

  let rank = 0;
  let rangeNu = 0;
  let nullShare = 0;
  for (let k = 0; k < n; k++) {
    let proj = 0;
    for (let i = 0; i < n; i++) proj += vectors[i * n + k] * y[i];
    if (values[k] > threshold) {
      rank++;
      rangeNu += (proj * proj) / values[k];
    } else {
      nullShare += proj * proj;
    }
  }
  const nullSpaceFraction = nullShare / yy;
  const lambdaMin = values[0];
  const conditionNumber = lambdaMax / Math.max(lambdaMin, Number.EPSILON * lambdaMax);
  const common = { rank, cutoff, nullSpaceFraction, rangeNu, conditionNumber, trace };
  if (rank === n) return { nu: rangeNu, method: 'full-rank', ...common };
  if (nullSpaceFraction <= nullSpaceTolerance) return { nu: rangeNu, method: 'pseudo-inverse', ...common };
  return {
    nu: null,
    method: 'undefined',
    reason:
      `H_hat has rank ${rank} of ${n} (eigenvalues <= ${cutoff.toExponential(2)} * lambda_max treated as zero) and ` +
      `${(nullSpaceFraction * 100).toPrecision(3)}% of ||y||^2 lies in its null space, so y^T H_hat^-1 y is infinite`,
    ...common,
  };
}
