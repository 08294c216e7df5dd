/**
 * How a lease ends: a result (CompleteTask, CompleteTasks), a failure (FailTask), an
 * interruption (FailTask with `interrupted`, a 'cancelled' result: the worker drained or was
 * stopped), an expiry (no heartbeat within the TTL) or a release (`npf run` taking back its own
 * earlier workers' leases). Every report from a worker passes the one fence check (fence.ts);
 * failures and expiries are retried with backoff or failed for good by lease-policy.ts, while
 * interruptions and releases hand the task back at once without counting against its attempts.
 */
import type { TrialResult } from '../../science/types.js';
import { InvalidRequestError, StaleLeaseError } from '../errors.js';
import { decideAfterFailure } from '../lease-policy.js';
import type { TaskRow } from '../store/rows.js';
import { parseTrialResult } from '../trial-result-schema.js';
import { requireId, type CoreContext } from './context.js';
import { checkFence } from './fence.js';
import type { Leasing } from './leasing.js';
import { RESUME_ARTIFACT, type ArtifactRef, type CompletionOutcome, type CompletionReport, type Lease } from './types.js';

/** Most items one CompleteTasks call may carry. */
export const MAX_BATCH = 256;

const CANCELLED_ON_WORKER = 'the trial was cancelled on the worker before it finished';

/** A report whose ids and result JSON passed the checks that need no database. */
interface CheckedReport {
  taskId: string;
  fencingToken: number;
  resultJson: string;
  artifacts: readonly ArtifactRef[];
  result: TrialResult;
}

function requireLeaseNext(leaseNext: number): void {
  if (!Number.isInteger(leaseNext) || leaseNext < 0) {
    throw new InvalidRequestError(`lease_next ${leaseNext} is invalid: send 0 (lease nothing) or a positive number of tasks`, { field: 'lease_next' });
  }
}

/** The checks of a report that need no database: ids and the result JSON (INVALID_ARGUMENT). */
function checkReport(r: Omit<CompletionReport, 'workerId'>): CheckedReport {
  requireId(r.taskId, 'task_id');
  return { taskId: r.taskId, fencingToken: r.fencingToken, resultJson: r.resultJson, artifacts: r.artifacts, result: parseTrialResult(r.resultJson, r.taskId) };
}

export class Completion {
  constructor(
    private readonly c: CoreContext,
    private readonly leasing: Leasing,
  ) {}

  /**
   * Record a task's result. A result with status 'diverged' is a successful completion, never
   * retried. With `leaseNext` > 0 the same atomic write then leases up to that many tasks to the
   * worker (CompleteTask's lease_next) and returns them; a refused report (stale fencing token,
   * lease lost, unknown artifact) rolls back and leases nothing. A repeated report of a result
   * already recorded (a client retry whose first answer was lost) still leases: the worker never
   * saw the first answer's leases, which expire on their own.
   */
  completeTask(report: CompletionReport, leaseNext = 0): Promise<{ nextLeases: Lease[] }> {
    const { workerId } = report;
    requireId(workerId, 'worker_id');
    requireLeaseNext(leaseNext);
    const checked = checkReport(report);
    if (checked.result.status === 'cancelled') {
      // The trial stopped before finishing (worker draining): hand it back, not counted as a try.
      return this.failTask(workerId, checked.taskId, checked.fencingToken, CANCELLED_ON_WORKER, true, true).then(() => ({ nextLeases: [] }));
    }
    return this.c.life.write(() => {
      this.completeWithinWrite(workerId, checked);
      // After the result: this task's lease is gone, so its resources are free for the next one.
      return { nextLeases: leaseNext > 0 ? this.leasing.leaseWithinWrite(workerId, leaseNext) : [] };
    });
  }

  /**
   * CompleteTasks: several results of one worker in ONE atomic write (one group commit). Each
   * item goes through the same checks and the same recording as `completeTask`, in its own nested
   * savepoint: an item refused (stale fencing token, unknown artifact, bad result JSON) is undone
   * alone and reported in its outcome, never rolling back the others. A 'cancelled' result hands
   * the task back as `failTask` would. After the items, `leaseNext` > 0 leases up to that many
   * tasks in the same write, unless every item was refused. Refuses the whole call (nothing
   * recorded) only when it is malformed: no items, more than MAX_BATCH, items of several workers,
   * or a bad lease_next.
   */
  completeTasks(items: readonly CompletionReport[], leaseNext = 0): Promise<{ outcomes: CompletionOutcome[]; nextLeases: Lease[] }> {
    if (items.length === 0) throw new InvalidRequestError('CompleteTasks has no items: send at least one result', { field: 'items' });
    if (items.length > MAX_BATCH) {
      throw new InvalidRequestError(`CompleteTasks has ${items.length} items, more than ${MAX_BATCH}: split the batch`, { field: 'items' });
    }
    const workerId = items[0].workerId;
    requireId(workerId, 'worker_id');
    const other = items.find((i) => i.workerId !== workerId);
    if (other) {
      throw new InvalidRequestError(`CompleteTasks mixes workers ${workerId} and ${other.workerId || '(empty)'}: send one batch per worker`, { field: 'worker_id' });
    }
    requireLeaseNext(leaseNext);
    // Request-level checks (ids, result JSON) before the write: a bad item never opens a savepoint.
    const checked = items.map((item): CheckedReport | { error: unknown } => {
      try {
        return checkReport(item);
      } catch (error) {
        return { error };
      }
    });
    return this.c.life.write(() => {
      const outcomes: CompletionOutcome[] = checked.map((r, i) => {
        if ('error' in r) return { taskId: items[i].taskId, ok: false, error: r.error };
        try {
          this.c.store.within(() => {
            if (r.result.status === 'cancelled') this.failWithinWrite(workerId, r.taskId, r.fencingToken, CANCELLED_ON_WORKER, true, true);
            else this.completeWithinWrite(workerId, r);
          });
          return { taskId: r.taskId, ok: true };
        } catch (error) {
          return { taskId: r.taskId, ok: false, error };
        }
      });
      const accepted = outcomes.some((o) => o.ok);
      return { outcomes, nextLeases: accepted && leaseNext > 0 ? this.leasing.leaseWithinWrite(workerId, leaseNext) : [] };
    });
  }

  /**
   * THE completion path, inside the current write: check the fence and the artifacts, record the
   * result, attempt and events, unblock dependants. A repeated report of the result already
   * recorded by the same attempt, from the worker that ran it, with the same result (a client
   * retry) is a no-op; from any other worker, or with another result, it is refused
   * (FAILED_PRECONDITION), so it never leases through lease_next. One read of the task row
   * serves the fence and the recording. Throws (typed) to refuse.
   */
  private completeWithinWrite(workerId: string, r: CheckedReport): void {
    const { store, opts, life, events, observer } = this.c;
    const { taskId, fencingToken, result } = r;
    const now = opts.now();
    const row = life.task(taskId);
    if (row.state === 'succeeded' && row.attempt === fencingToken && store.results.attemptOf(taskId) === fencingToken) {
      const ranOn = store.attempts.workerOf(taskId, fencingToken);
      if (ranOn !== workerId) {
        throw new StaleLeaseError(`task ${taskId} attempt ${fencingToken} was completed by worker ${ranOn ?? '(unknown)'}, not ${workerId}: only the lease holder reports it`, {
          taskId,
          fencingToken,
          currentAttempt: row.attempt,
        });
      }
      if (store.results.byTask(taskId)?.result_json !== r.resultJson) {
        throw new StaleLeaseError(`task ${taskId} attempt ${fencingToken} already has a different result recorded: a completion is final`, {
          taskId,
          fencingToken,
          currentAttempt: row.attempt,
        });
      }
      return; // the same report again (a client retry): already recorded
    }
    checkFence(row, fencingToken, workerId);
    for (const a of r.artifacts) {
      const stored = store.artifacts.get(taskId, a.name);
      if (!stored || stored.sha256 !== a.sha256 || stored.attempt !== fencingToken) {
        throw new InvalidRequestError(
          `task ${taskId}: artifact '${a.name}' (sha256 ${a.sha256 || '(empty)'}) was not uploaded by attempt ${fencingToken}; upload it before CompleteTask`,
          { taskId, name: a.name },
        );
      }
    }
    life.setState(row, 'succeeded', { lease_expires_ms: null, error: null });
    // Its resume state is of no further use once it has a result.
    store.artifacts.remove(taskId, RESUME_ARTIFACT);
    // The text as sent: validated above, and not worth a second stringify per completion.
    store.results.record(taskId, fencingToken, result.status, r.resultJson, now);
    life.recordAttempt(row, 'succeeded', null);
    const sweeps = life.sweepsOf(taskId);
    const durationMs = Math.max(0, now - (row.leased_at_ms ?? now));
    events.task(sweeps, taskId, 'task.succeeded', {
      attempt: fencingToken,
      workerId,
      bestTestAccuracy: result.bestTestAccuracy,
      bestEpoch: result.bestEpoch,
      durationMs,
      diverged: result.status === 'diverged',
    });
    const seconds = durationMs / 1000;
    store.afterCommit(() => {
      observer.taskFinished?.(row.regime, seconds);
      for (const s of sweeps) observer.trialResult?.(s, row.regime, result.bestTestAccuracy);
    });
    if (row.has_dependants) for (const child of store.tasks.blockedChildren(taskId)) life.resolveBlocked(child);
  }

  /**
   * Record a failed attempt; retryable ones are retried with backoff while attempts remain. An
   * `interrupted` attempt (the worker drained or was stopped) is not a failure: the task goes
   * back to pending at once and the attempt does not count against max attempts.
   */
  failTask(workerId: string, taskId: string, fencingToken: number, error: string, retryable: boolean, interrupted = false): Promise<{ willRetry: boolean }> {
    requireId(workerId, 'worker_id');
    requireId(taskId, 'task_id');
    const reason = error.trim() || 'the worker gave no reason';
    return this.c.life.write(() => ({ willRetry: this.failWithinWrite(workerId, taskId, fencingToken, reason, retryable, interrupted) }));
  }

  /** The failure path inside the current write (FailTask, and a 'cancelled' item of CompleteTasks). */
  private failWithinWrite(workerId: string, taskId: string, fencingToken: number, reason: string, retryable: boolean, interrupted = false): boolean {
    const row = this.c.life.task(taskId);
    checkFence(row, fencingToken, workerId);
    return this.afterFailedAttempt(row, reason, retryable, interrupted ? 'interrupted' : 'attempt failed');
  }

  /** Requeue (or fail) every task whose lease expired at `now`. Returns how many expired. */
  expireLeases(): Promise<number> {
    const { store, opts } = this.c;
    // The timer runs every second: do not open a write (and an fsync) when nothing expired.
    if (!store.tasks.anyLeaseExpired(opts.now())) return Promise.resolve(0);
    return this.c.life.write(() => {
      const expired = store.tasks.expiredLeases(opts.now());
      for (const row of expired) {
        this.afterFailedAttempt(row, `lease expired: worker ${row.lease_worker} sent no heartbeat within ${opts.leaseTtlMs} ms`, true, 'lease expired');
      }
      if (expired.length) {
        store.afterCommit(() => {
          this.c.observer.leaseExpired?.(expired.length);
          opts.log(`${expired.length} lease(s) expired`);
        });
      }
      return expired.length;
    });
  }

  /**
   * Hand back every lease now, whoever holds it: each task goes back to pending through the
   * state machine, its attempt recorded as 'interrupted' with `reason`; like any interruption it
   * does not count against the task's attempts and has no backoff. For an embedded coordinator
   * whose workers are all its own child processes (`npf run`): at start, every lease in the store
   * belongs to a worker of an earlier run that was stopped (Ctrl-C), so a resume need not wait
   * out the lease TTL, and the stopped trials are not counted as failures. Returns how many
   * leases were released.
   */
  releaseAllLeases(reason: string): Promise<number> {
    const { store, opts } = this.c;
    const why = reason.trim() || 'lease released by the coordinator';
    return this.c.life.write(() => {
      const held = store.tasks.leased();
      for (const row of held) this.afterFailedAttempt(row, `lease released: ${why}`, true, 'interrupted');
      if (held.length) {
        store.afterCommit(() => {
          this.c.observer.leaseExpired?.(held.length);
          opts.log(`${held.length} lease(s) released: ${why}`);
        });
      }
      return held.length;
    });
  }

  /**
   * After a failed, expired or interrupted attempt: retry with backoff, or fail for good. Returns
   * whether it will retry. The attempt is recorded as 'failed', 'expired' for a lease the worker
   * no longer holds, or 'interrupted'. An interrupted attempt (drain, stop, release) is handed
   * back at once and its try is given back (`tries` - 1), so interruptions never use up a task's
   * attempts nor lead to "gave up after N attempts".
   */
  private afterFailedAttempt(row: TaskRow, error: string, retryable: boolean, why: 'attempt failed' | 'lease expired' | 'interrupted'): boolean {
    const { opts, life, events } = this.c;
    life.recordAttempt(row, why === 'attempt failed' ? 'failed' : why === 'interrupted' ? 'interrupted' : 'expired', error);
    if (why === 'interrupted') {
      life.setState(row, 'pending', { tries: Math.max(0, row.tries - 1), not_before_ms: 0, lease_worker: null, lease_expires_ms: null, gpu_indices: '[]', error: null });
      events.task(life.sweepsOf(row.task_id), row.task_id, 'task.retried', { attempt: row.attempt, nextAttempt: row.attempt + 1, reason: why, message: error, backoffMs: 0 });
      return true;
    }
    const decision = decideAfterFailure({ attempt: row.tries, retryable, error, now: opts.now() }, opts);
    if (decision.kind === 'retry') {
      life.setState(row, 'pending', { not_before_ms: decision.notBeforeMs, lease_worker: null, lease_expires_ms: null, gpu_indices: '[]', error });
      events.task(life.sweepsOf(row.task_id), row.task_id, 'task.retried', {
        attempt: row.attempt,
        nextAttempt: row.attempt + 1,
        reason: why,
        message: error,
        backoffMs: decision.backoffMs,
      });
      this.c.store.afterCommit(() => this.c.observer.taskRetried?.());
      return true;
    }
    life.failForGood(row, decision.reason, retryable ? 'attempts exhausted' : 'not retryable');
    return false;
  }
}
