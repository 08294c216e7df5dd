import { NpfError } from '../../common/errors.js';

/** A requested TensorFlow.js backend cannot be used here (not installed, or cannot run the model). Retryable: another host may have it. */
export class BackendUnavailableError extends NpfError {
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('BACKEND_UNAVAILABLE', message, context, { cause: options?.cause, retryable: true });
  }
}
