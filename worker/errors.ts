/**
 * Typed errors of the worker area. A user sees `message` (one sentence); the rest is context.
 */
import { NpfError } from '../common/errors.js';

/**
 * The coordinator refused the worker's credentials (gRPC UNAUTHENTICATED: the token; or
 * PERMISSION_DENIED: the administration token where the worker token is wanted, or a worker
 * secret not this worker's). Fatal: retrying cannot help.
 */
export class WorkerAuthError extends NpfError {
  constructor(coordinator: string, detail: string, status: 'UNAUTHENTICATED' | 'PERMISSION_DENIED' = 'UNAUTHENTICATED') {
    super(
      status === 'UNAUTHENTICATED' ? 'WORKER_UNAUTHENTICATED' : 'WORKER_PERMISSION_DENIED',
      status === 'UNAUTHENTICATED'
        ? `the coordinator at ${coordinator} refused this worker's token (UNAUTHENTICATED: ${detail}); check --token / --token-file / NPF_TOKEN`
        : `the coordinator at ${coordinator} refused this worker's credentials (PERMISSION_DENIED: ${detail}); a worker takes the worker token when the coordinator has one (--token-file with the file of its --worker-token-file)`,
      { coordinator },
    );
  }
}

/** A downloaded checkpoint does not hash to what the coordinator announced. Not retried: the stored artifact is bad. */
export class ArtifactIntegrityError extends NpfError {
  constructor(expected: string, actual: string, context: Record<string, unknown> = {}) {
    super('ARTIFACT_INTEGRITY', `checkpoint ${expected.slice(0, 12)}... failed verification: its bytes hash to ${actual.slice(0, 12)}...`, { expected, actual, ...context });
  }
}
