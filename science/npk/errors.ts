import { NpfError } from '../../common/errors.js';

/**
 * Bad arguments to an NPF/NPK function: a shape, length or value that does not fit.
 * `context` names the argument (`field`) and the offending value.
 */
export class NpkShapeError extends NpfError {
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('NPK_SHAPE', message, context, options);
  }
}

/**
 * A linear-algebra routine could not finish: a matrix that is not positive definite where one
 * is required, an eigen-solver that did not converge, or a ridge that grew without success.
 */
export class NpkNumericError extends NpfError {
  constructor(code: 'NOT_POSITIVE_DEFINITE' | 'NO_CONVERGENCE' | 'RIDGE_EXHAUSTED' | 'NOT_FINITE', message: string, context: Record<string, unknown> = {}) {
    super(`NPK_${code}`, message, context);
  }
}

/** Throws NpkShapeError unless `arr.length === expected`. */
export function expectLength(field: string, arr: ArrayLike<number>, expected: number, what: string): void {
  if (arr.length !== expected) {
    throw new NpkShapeError(`${field} has length ${arr.length}, expected ${expected} (${what}).`, {
      field,
      length: arr.length,
      expected,
    });
  }
}

/** Throws NpkShapeError unless `value` is a positive integer. */
export function expectPositiveInt(field: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new NpkShapeError(`${field} must be a positive integer, got ${value}.`, { field, value });
  }
}
