/**
 * Typed errors of the event bus (NATS). Publishing never throws (see nats-event-sink.ts); these
 * are raised at start-up (a required NATS is unreachable, a malformed URL) and by followers.
 */
import { InvalidInputError, NpfError } from '../common/errors.js';

/** The NATS URL itself is malformed (never fixed by retrying). */
export class NatsUrlError extends InvalidInputError {}

/** NATS could not be reached (or JetStream is not enabled there) when it was required. */
export class NatsUnavailableError extends NpfError {
  constructor(message: string, context: { url: string }, options?: { cause?: unknown }) {
    super('NATS_UNAVAILABLE', message, context, { cause: options?.cause, retryable: true });
  }
}
