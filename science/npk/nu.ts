/**
 * nu = y^T H_hat^{-1} y with H_hat = H / trace(H) (docs/protocol.md "NPK experiment", Figure 2 middle):
 * the NPK analogue of the y^T K^{-1} y term in NTK generalisation bounds (section 1). A smaller
 * nu means the labels are better aligned with the gates' kernel.
 */
import { cholesky, forwardSubstitute } from './cholesky.js';
import { NpkNumericError, NpkShapeError, expectLength, expectPositiveInt } from './errors.js';
import { conditionNumber, symmetricEigenvalues } from './symmetric-eigen.js';

export interface NuOptions {
  /** H_hat is treated as singular above this 2-norm condition number. Default 1e12. */
  maxCondition?: number;
  /** First ridge, as a fraction of trace(H_hat)/n (= 1/n). Default 1e-10. */
  initialRidge?: number;
  /** Give up once the ridge exceeds this multiple of trace(H_hat)/n. Default 1 (a ridge as large as the mean eigenvalue). */
  maxRidge?: number;
}

export interface NuResult {
  nu: number;
  /** 2-norm condition number of H_hat itself (before any ridge); see conditionNumber(). */
  conditionNumber: number;
  /** 'cholesky': H_hat was factored as is. 'ridge': H_hat + ridge * I was factored. */
  method: 'cholesky' | 'ridge';
  /** The ridge added to H_hat's diagonal (absolute, in H_hat's units), when method is 'ridge'. */
  ridge?: number;
  /** Condition number of the matrix actually factored (H_hat + ridge * I). */
  solvedConditionNumber: number;
  /** trace(H) before normalisation. */
  trace: number;
}

/**
 * nu = y^T H_hat^{-1} y, H_hat = H / trace(H), solved by Cholesky in float64.
 *
 * The authors' notebook inverted H directly with no regularisation, which silently returns
 * garbage (or fails) when H is singular, e.g. when two inputs are equal or share all gates. Here:
 * 1. H_hat's eigenvalues (symmetricEigenvalues) give its 2-norm condition number, reported as is.
 * 2. If cond(H_hat) <= maxCondition and Cholesky of H_hat succeeds, method = 'cholesky'.
 * 3. Otherwise a ridge r * I is added, starting at r = initialRidge * trace(H_hat) / n and doubling
 *    until both cond(H_hat + r I) = (lambda_max + r) / (lambda_min + r) <= maxCondition and
 *    Cholesky succeeds; method = 'ridge' and `ridge` = r. (Requiring the condition bound as well
 *    as a successful factorisation is what makes the ridge answer trustworthy: a factorisation can
 *    succeed on a matrix whose inverse is dominated by rounding noise.) The smallest such r is a
 *    power-of-two multiple of the start, so the bias it adds to nu is within a factor 2 of minimal.
 * nu is computed as ||L^{-1} y||^2 with H_hat (+ r I) = L L^T, so it is never negative.
 *
 * @param h H, n x n row-major, symmetric positive semi-definite (e.g. from npkFromGates).
 * @param y labels (for the binary-MNIST experiment: -1 for digit 4, +1 for digit 7).
 * @throws NpkNumericError 'NOT_FINITE' for a zero, negative or non-finite trace (a network whose
 *   paths are all inactive has H = 0 and no nu); 'RIDGE_EXHAUSTED' if no ridge up to maxRidge works.
 */
export function nuFromNpk(h: ArrayLike<number>, y: ArrayLike<number>, options: NuOptions = {}): NuResult {
  const n = y.length;
  expectPositiveInt('y.length', n);
  expectLength('h', h, n * n, `H is n x n with n = y.length = ${n}`);
  const maxCondition = options.maxCondition ?? 1e12;
  const initialRidge = options.initialRidge ?? 1e-10;
  const maxRidge = options.maxRidge ?? 1;
  if (!(maxCondition > 1) || !(initialRidge > 0) || !(maxRidge >= initialRidge)) {
    throw new NpkShapeError(
      `nu options need maxCondition > 1 and 0 < initialRidge <= maxRidge, got ${maxCondition}, ${initialRidge}, ${maxRidge}.`,
      { field: 'options', maxCondition, initialRidge, maxRidge },
    );
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(y[i])) throw new NpkShapeError(`y[${i}] is ${y[i]}; labels must be finite.`, { field: `y[${i}]`, value: y[i] });
  }

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
  const eig = symmetricEigenvalues(hHat, n);
  const cond = conditionNumber(eig);
  const lambdaMin = eig[0];
  const lambdaMax = eig[n - 1];

  if (cond <= maxCondition) {
    const f = cholesky(hHat, n);
    if (f.ok) return { nu: quadraticForm(f.l, y, n), conditionNumber: cond, method: 'cholesky', solvedConditionNumber: cond, trace };
  }

  const unit = 1 / n; // trace(H_hat) / n
  const shifted = new Float64Array(hHat);
  for (let r = initialRidge * unit; r <= maxRidge * unit; r *= 2) {
    const ridgedCond = lambdaMin + r > 0 ? (lambdaMax + r) / (lambdaMin + r) : Number.POSITIVE_INFINITY;
    if (ridgedCond > maxCondition) continue;
    for (let i = 0; i < n; i++) shifted[i * n + i] = hHat[i * n + i] + r;
    const f = cholesky(shifted, n);
    if (f.ok) {
      return { nu: quadraticForm(f.l, y, n), conditionNumber: cond, method: 'ridge', ridge: r, solvedConditionNumber: ridgedCond, trace };
    }
  }
  throw new NpkNumericError(
    'RIDGE_EXHAUSTED',
    `could not make H_hat positive definite with a ridge up to ${maxRidge} * trace/n (smallest eigenvalue ${lambdaMin}).`,
    { lambdaMin, lambdaMax, maxRidge },
  );
}

/** y^T (L L^T)^{-1} y = ||L^{-1} y||^2. */
function quadraticForm(l: Float64Array, y: ArrayLike<number>, n: number): number {
  const w = forwardSubstitute(l, y, n);
  let s = 0;
  for (let i = 0; i < n; i++) s += w[i] * w[i];
  return s;
}
