/**
 * Typed error details on the wire between the coordinator and its clients. Every error status
 * the coordinator answers carries the NpfError code of the refusal (e.g. 'WORKER_NOT_FOUND') in
 * its trailing metadata under ERROR_CODE_KEY, so a client decides what to do from the pair
 * (gRPC status, error code), never by reading the sentence meant for people.
 */

/** Trailing-metadata key of the NpfError code on an error status. */
export const ERROR_CODE_KEY = 'npf-error-code';

/**
 * The error code of an untyped error of the coordinator's own (a bug, answered INTERNAL). Every
 * INTERNAL the coordinator sends carries an error code, so an INTERNAL without one was never the
 * coordinator's answer: the client's HTTP/2 session broke under the call (e.g. a connection that
 * lost bytes in a network partition), and the call may be repeated.
 */
export const INTERNAL_ERROR_CODE = 'INTERNAL';

/** What a NOT_FOUND refusal is about. */
export type NotFoundSubject = 'sweep' | 'task' | 'worker' | 'artifact';

/** The error code of "unknown <subject>", e.g. 'WORKER_NOT_FOUND' (a coordinator that lost its worker table). */
export function notFoundCode(subject: NotFoundSubject): string {
  return `${subject.toUpperCase()}_NOT_FOUND`;
}

/** The error code a grpc-js error carries in its trailing metadata (undefined when it has none). */
export function errorCodeOf(err: unknown): string | undefined {
  const md = (err as { metadata?: { get?: (key: string) => unknown[] } } | null)?.metadata;
  if (!md || typeof md.get !== 'function') return undefined;
  const v = md.get(ERROR_CODE_KEY)[0];
  if (typeof v === 'string') return v;
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}
