/**
 * THE fence check: whether a worker's report still holds the task's current lease. Every path
 * that acts on a lease uses it: CompleteTask and each CompleteTasks item, FailTask, Heartbeat
 * (which answers "stop" instead of refusing) and UploadArtifact (before and after the bytes).
 * A lease is held by (fencing token = the task's current attempt, the task leased or running,
 * and, when the caller names one, the worker it was leased to).
 */
import { StaleLeaseError } from '../errors.js';
import type { TaskRow } from '../store/rows.js';
import { LEASED_STATES } from '../task-state.js';

/** The columns the fence reads. */
export type FencedRow = Pick<TaskRow, 'task_id' | 'attempt' | 'state' | 'lease_worker'>;

/**
 * Why (`workerId`, `fencingToken`) does not hold `row`'s lease, or undefined when it does.
 * `workerId` undefined: any worker (an upload names no worker, its token is enough).
 */
export function fenceRefusal(row: FencedRow, fencingToken: number, workerId?: string): StaleLeaseError | undefined {
  const taskId = row.task_id;
  const context = { taskId, fencingToken, currentAttempt: row.attempt };
  if (row.attempt !== fencingToken) {
    return new StaleLeaseError(`stale fencing token ${fencingToken} for task ${taskId} (current attempt ${row.attempt})`, context);
  }
  if (!LEASED_STATES.includes(row.state)) {
    return new StaleLeaseError(`task ${taskId} is ${row.state}, not leased: fencing token ${fencingToken} no longer holds a lease`, context);
  }
  if (workerId !== undefined && row.lease_worker !== workerId) {
    return new StaleLeaseError(`task ${taskId} attempt ${row.attempt} is leased to ${row.lease_worker}, not ${workerId}`, context);
  }
  return undefined;
}

/** `fenceRefusal`, thrown. */
export function checkFence(row: FencedRow, fencingToken: number, workerId?: string): void {
  const refusal = fenceRefusal(row, fencingToken, workerId);
  if (refusal) throw refusal;
}
