/**
 * THE mapping from typed errors to gRPC status codes, used once at the rpc edge. Anything not a
 * known error becomes INTERNAL with a generic sentence (its stack goes to the log, not the client).
 * Every error status carries the NpfError code in its trailers (common/error-metadata.ts).
 */
import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { ERROR_CODE_KEY, INTERNAL_ERROR_CODE } from '../common/error-metadata.js';
import { InvalidInputError, NpfError } from '../common/errors.js';
import { AuthError, IllegalTransitionError, LimitExceededError, NotFoundError, PermissionDeniedError, StaleLeaseError } from './errors.js';

export interface GrpcFailure {
  code: status;
  details: string;
  /** The NpfError code, sent as trailing metadata (common/error-metadata.ts) for clients to classify by. */
  errorCode?: string;
}

export function toGrpcStatus(err: unknown): GrpcFailure {
  const s = statusOf(err);
  // An untyped error gets a code too: an INTERNAL without one is the client transport's (error-metadata.ts).
  return { ...s, errorCode: err instanceof NpfError ? err.code : INTERNAL_ERROR_CODE };
}

function statusOf(err: unknown): GrpcFailure {
  if (err instanceof AuthError) return { code: status.UNAUTHENTICATED, details: err.message };
  if (err instanceof PermissionDeniedError) return { code: status.PERMISSION_DENIED, details: err.message };
  if (err instanceof NotFoundError) return { code: status.NOT_FOUND, details: err.message };
  if (err instanceof StaleLeaseError) return { code: status.FAILED_PRECONDITION, details: err.message };
  if (err instanceof IllegalTransitionError) return { code: status.FAILED_PRECONDITION, details: err.message };
  if (err instanceof LimitExceededError) return { code: status.RESOURCE_EXHAUSTED, details: err.message };
  // Spec errors (SweepSpecError with file:line), bad ids, bad JSON, artifact mismatches.
  if (err instanceof InvalidInputError) return { code: status.INVALID_ARGUMENT, details: err.message };
  // Any other error is the coordinator's own: its message (a store error can name the database
  // file) stays in the log; the client gets the generic sentence and the error code in the trailers.
  if (err instanceof NpfError) return { code: status.INTERNAL, details: INTERNAL_DETAILS };
  return { code: status.INTERNAL, details: INTERNAL_DETAILS };
}

/** What a client is told of an error that is not a typed one. */
export const INTERNAL_DETAILS = 'internal error in the coordinator (see its log)';

/** The status a call refused with `err` ends with: code, sentence, and the error code in the trailers. */
export function toStatusObject(err: unknown): StatusObject {
  const s = toGrpcStatus(err);
  const metadata = new Metadata();
  if (s.errorCode) metadata.set(ERROR_CODE_KEY, s.errorCode);
  return { code: s.code, details: s.details, metadata };
}

/** `toStatusObject` as the error a handler answers with (callback(err) or emit('error', err)). */
export function toServiceError(err: unknown): ServiceError {
  const s = toStatusObject(err);
  return Object.assign(new Error(s.details), s);
}
