/**
 * The task lifecycle: ONE explicit state machine. Every change of a task's state in the
 * coordinator goes through `transition`, which checks it against `TRANSITIONS` and throws a typed
 * `IllegalTransitionError` for anything else.
 *
 *   blocked --parent succeeded (with its checkpoint)--> pending
 *   blocked --parent failed for good--> failed
 *   pending --leased to a worker--> leased --worker reports progress--> running
 *   leased|running --result--> succeeded (status 'succeeded' or 'diverged')
 *   leased|running --retryable failure / lease expired, attempts left--> pending (with backoff)
 *   leased|running --interrupted (worker drained or stopped, lease released)--> pending (at once;
 *                    the attempt does not count against max attempts: completion.ts)
 *   leased|running --deterministic failure / attempts exhausted--> failed
 *   blocked|pending|leased|running --sweep cancelled--> cancelled
 *   failed|cancelled --sweep resubmitted--> pending | blocked
 */
import { IllegalTransitionError } from './errors.js';

/** Where a task is in its lifecycle. */
export type TaskState =
  /** Waiting for its parent (the ReLU run whose checkpoint gives its gates). */
  | 'blocked'
  /** Ready to lease (possibly not before a backoff time). */
  | 'pending'
  /** Handed to a worker, no progress reported yet. */
  | 'leased'
  /** The worker reported it running. */
  | 'running'
  /** Finished with a result (TrialResult status 'succeeded' or 'diverged'). Terminal. */
  | 'succeeded'
  /** Failed for good (deterministic failure, attempts exhausted, or parent failed). */
  | 'failed'
  /** Cancelled with its sweep. */
  | 'cancelled';

export const TASK_STATES: readonly TaskState[] = [
  'blocked',
  'pending',
  'leased',
  'running',
  'succeeded',
  'failed',
  'cancelled',
];

/** The allowed transitions, and nothing else. */
export const TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  blocked: ['pending', 'failed', 'cancelled'],
  pending: ['leased', 'cancelled'],
  leased: ['running', 'pending', 'succeeded', 'failed', 'cancelled'],
  running: ['pending', 'succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: ['pending', 'blocked'],
  cancelled: ['pending', 'blocked'],
};

/** States a task never leaves on its own (only a resubmission re-arms failed/cancelled). */
export const TERMINAL_STATES: readonly TaskState[] = ['succeeded', 'failed', 'cancelled'];

/** States in which a worker holds a lease on the task. */
export const LEASED_STATES: readonly TaskState[] = ['leased', 'running'];

export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.includes(state);
}

export function canTransition(from: TaskState, to: TaskState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Check a transition against the table; returns `to` or throws IllegalTransitionError. */
export function transition(taskId: string, from: TaskState, to: TaskState): TaskState {
  if (!canTransition(from, to)) throw new IllegalTransitionError(taskId, from, to);
  return to;
}

export function isTaskState(value: string): value is TaskState {
  return (TASK_STATES as readonly string[]).includes(value);
}
