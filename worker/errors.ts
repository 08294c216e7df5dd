/**
 * Typed errors of the worker area. A user sees `message` (one sentence); the rest is context.
 */
import { NpfError } from '../common/errors.js';

/** The coordinator refused the worker's credentials (gRPC UNAUTHENTICATED). Fatal: retrying cannot help. */
export class WorkerAuthError extends NpfError {
  constructor(coordinator: string, detail: string) {
    super('WORKER_UNAUTHENTICATED', `the coordinator at ${coordinator} refused this worker's token (UNAUTHENTICATED: ${detail}); check --token / --token-file / NPF_TOKEN`, { coordinator });
  }
}

/** A downloaded checkpoint does not hash to what the coordinator announced. Not retried: the stored artifact is bad. */
export class ArtifactIntegrityError extends NpfError {
  constructor(expected: string, actual: string, context: Record<string, unknown> = {}) {
    super('ARTIFACT_INTEGRITY', `checkpoint ${expected.slice(0, 12)}... failed verification: its bytes hash to ${actual.slice(0, 12)}...`, { expected, actual, ...context });
  }
}
