import { NpfError } from '../../common/errors.js';

/** A requested TensorFlow.js backend cannot be used here (not installed, or cannot run the model). Retryable: another host may have it. */
export class BackendUnavailableError extends NpfError {
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('BACKEND_UNAVAILABLE', message, context, { cause: options?.cause, retryable: true });
  }
}

/**
 * The GPU device went away during a trial (driver reset, GPU fell off the bus, out of device
 * memory). The attempt fails; another attempt, on this worker or another, may well succeed.
 */
export class DeviceLostError extends NpfError {
  constructor(adapter: string, reason: string, detail: string) {
    super(
      'DEVICE_LOST',
      `the WebGPU device on '${adapter}' was lost (${reason || 'unknown'}${detail ? `: ${detail}` : ''}); this attempt is abandoned and may be retried`,
      { adapter, reason },
      { retryable: true },
    );
  }
}
