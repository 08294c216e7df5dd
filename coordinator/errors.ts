/**
 * Typed errors of the coordinator runtime. Each carries readonly context (task id, sweep id,
 * worker id...) and a one-sentence message; `grpc-status.ts` maps them to gRPC status codes in
 * one place at the rpc edge.
 */
import { InvalidInputError, NpfError } from '../common/errors.js';
import { notFoundCode, type NotFoundSubject } from '../common/error-metadata.js';
import type { TaskState } from './task-state.js';

/** A task lifecycle transition not in the table of task-state.ts. A bug or a race, never user input. */
export class IllegalTransitionError extends NpfError {
  readonly taskId: string;
  readonly from: TaskState;
  readonly to: TaskState;

  constructor(taskId: string, from: TaskState, to: TaskState) {
    super('ILLEGAL_TRANSITION', `task ${taskId}: illegal transition ${from} -> ${to}`, { taskId, from, to });
    this.taskId = taskId;
    this.from = from;
    this.to = to;
  }
}

/** A request field is missing or malformed (empty id, bad JSON, out-of-range resources). */
export class InvalidRequestError extends InvalidInputError {}

/** Something named by id does not exist (sweep, task, worker, artifact). */
export class NotFoundError extends NpfError {
  constructor(what: NotFoundSubject, id: string, hint = '') {
    super(notFoundCode(what), `unknown ${what} '${id}'${hint ? `: ${hint}` : ''}`, { what, id });
  }
}

/**
 * A worker acted on a lease it no longer holds: its fencing token (attempt number) is not the
 * task's current attempt, the lease moved to another worker, or the task was cancelled/finished.
 */
export class StaleLeaseError extends NpfError {
  constructor(message: string, context: { taskId: string; fencingToken: number; currentAttempt?: number }) {
    super('STALE_LEASE', message, context);
  }
}

/** An artifact upload whose bytes do not match its header (hash or size), or that breaks the protocol. */
export class ArtifactMismatchError extends InvalidInputError {}

/** A request exceeds a configured limit (artifact size, batch size). */
export class LimitExceededError extends NpfError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('LIMIT_EXCEEDED', message, context);
  }
}

/**
 * The caller is authenticated but may not do this: a worker secret that is not the one issued to
 * the worker id it names, or a token of the wrong role (the worker token on an administration rpc,
 * the administration token on a worker rpc, when both are configured).
 */
export class PermissionDeniedError extends NpfError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('PERMISSION_DENIED', message, context);
  }
}

/** Missing or wrong bearer token. */
export class AuthError extends NpfError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}

/**
 * Another process holds the data directory's single-writer lock (single-writer-lock.ts): a
 * second coordinator (or `npf run`) on the same --data-dir refuses to start.
 */
export class DataDirLockedError extends NpfError {
  constructor(dataDir: string, lockFile: string, holder: string) {
    super(
      'DATA_DIR_LOCKED',
      `another coordinator is using the data directory ${dataDir} (${holder}): only one process may write it; stop the other one first (lock: ${lockFile})`,
      { dataDir, lockFile },
    );
  }
}
