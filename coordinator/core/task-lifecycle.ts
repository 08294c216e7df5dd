/**
 * The one path by which a task changes state (`setState`, checked against task-state.ts), and
 * what follows from a change: each linked sweep's count of open tasks (a sweep closes when it
 * reaches zero, at the end of the write), waking long polls, failing dependants for good,
 * unblocking children, recording a finished attempt. Every write of the core goes through
 * `write`, one atomic group-committed store write.
 */
import { NotFoundError } from '../errors.js';
import type { CoordinatorStore } from '../store/coordinator-store.js';
import type { AttemptOutcome } from '../store/attempts.js';
import type { ArtifactRow, SweepRow, TaskRow } from '../store/rows.js';
import type { TaskFields } from '../store/tasks.js';
import { LEASED_STATES, isTerminal, transition, type TaskState } from '../task-state.js';
import type { EventLog } from './event-log.js';
import type { LeaseWaiters } from './lease-waiters.js';
import type { CoreOptions, TaskCounts } from './types.js';

/** Why a task failed for good (the `reason` of its task.failed event). */
export type FailureKind = 'not retryable' | 'attempts exhausted' | 'parent failed' | 'no parent checkpoint';

export function emptyCounts(): TaskCounts {
  return { blocked: 0, pending: 0, leased: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
}

export class TaskLifecycle {
  /** Sweeps whose open-task count reached zero in the current write. */
  private readonly touchedSweeps = new Set<string>();
  /** Sweeps of each task; links only change in submitSweep, which clears this. */
  private readonly links = new Map<string, string[]>();

  constructor(
    private readonly store: CoordinatorStore,
    private readonly opts: CoreOptions,
    private readonly events: EventLog,
    private readonly waiters: LeaseWaiters,
  ) {}

  /** One atomic, group-committed write; sweeps emptied by it close at its end (after its task events). */
  write<T>(fn: () => T): Promise<T> {
    return this.store.write(() => {
      this.touchedSweeps.clear();
      try {
        const value = fn();
        for (const id of this.touchedSweeps) this.maybeCloseSweep(id);
        return value;
      } finally {
        this.touchedSweeps.clear();
      }
    });
  }

  /** The task's row, or NOT_FOUND. */
  task(taskId: string): TaskRow {
    const row = this.store.tasks.byId(taskId);
    if (!row) throw new NotFoundError('task', taskId);
    return row;
  }

  /** The sweep's row, or NOT_FOUND. */
  sweep(sweepId: string): SweepRow {
    const s = this.store.sweeps.byId(sweepId);
    if (!s) throw new NotFoundError('sweep', sweepId);
    return s;
  }

  /** Sweeps linked to a task (cached). */
  sweepsOf(taskId: string): string[] {
    let ids = this.links.get(taskId);
    if (!ids) {
      ids = this.store.sweeps.sweepsOfTask(taskId);
      this.links.set(taskId, ids);
    }
    return ids;
  }

  /** Forget the cached links (a write that adds links is under way). */
  forgetLinks(): void {
    this.links.clear();
  }

  /** Once committed, remember that each of `taskIds` (new tasks) belongs to `sweepId` only. */
  rememberLinks(taskIds: readonly string[], sweepId: string): void {
    this.store.afterCommit(() => {
      for (const id of taskIds) if (!this.links.has(id)) this.links.set(id, [sweepId]);
    });
  }

  /**
   * Move a task to `to` (checked against the transition table), writing `fields` with it, and
   * keep each linked sweep's count of open tasks.
   */
  setState(row: TaskRow, to: TaskState, fields: TaskFields = {}): void {
    transition(row.task_id, row.state, to);
    // Outside leased/running nobody holds a lease: clearing it keeps the per-worker and expiry
    // indexes as small as the set of live leases.
    if (!LEASED_STATES.includes(to)) fields = { ...fields, lease_worker: null, lease_expires_ms: null };
    this.store.tasks.update(row.task_id, to, this.opts.now(), fields);
    const wasOpen = !isTerminal(row.state);
    const isOpen = !isTerminal(to);
    if (wasOpen !== isOpen) {
      for (const sweepId of this.sweepsOf(row.task_id)) {
        const left = this.store.sweeps.addOpenTasks(sweepId, isOpen ? 1 : -1);
        if (!isOpen && left === 0) this.touchedSweeps.add(sweepId);
      }
    }
    // A task became ready, or a lease ended and freed its worker's resources: long polls retry.
    if (to === 'pending') {
      this.store.afterCommit(() => this.waiters.wake());
    } else if (LEASED_STATES.includes(row.state) && !LEASED_STATES.includes(to) && row.lease_worker) {
      const worker = row.lease_worker;
      this.store.afterCommit(() => this.waiters.wake(worker));
    }
    row.state = to;
  }

  /** Close a running sweep with no open task left: 'failed' if any task failed, else 'complete'. */
  maybeCloseSweep(sweepId: string): void {
    const s = this.store.sweeps.byId(sweepId);
    if (!s || s.state !== 'running' || s.open_tasks > 0) return;
    const state = this.store.sweeps.failedTasks(sweepId) > 0 ? 'failed' : 'complete';
    this.store.sweeps.setState(sweepId, state);
    const { succeeded, failed, cancelled } = this.countsOf(sweepId);
    this.events.sweep(sweepId, 'sweep.complete', { succeeded, failed, cancelled });
  }

  /** Tasks of a sweep by state. */
  countsOf(sweepId: string): TaskCounts {
    const counts = emptyCounts();
    for (const r of this.store.sweeps.countByState(sweepId)) counts[r.state] = r.n;
    return counts;
  }

  /**
   * Append a finished attempt to `attempts` (the attempt in progress lives in the task row:
   * attempt, lease_worker, leased_at_ms). `row` is as read before the state change.
   */
  recordAttempt(row: TaskRow, outcome: AttemptOutcome, error: string | null): void {
    const now = this.opts.now();
    this.store.attempts.record({
      taskId: row.task_id,
      attempt: row.attempt,
      workerId: row.lease_worker ?? '',
      startedAtMs: row.leased_at_ms ?? now,
      endedAtMs: now,
      outcome,
      error,
    });
  }

  /**
   * Fail a task for good with `error` (kept as the task's error) and, recursively, every blocked
   * dependant. `reason` is the kind of failure the event names.
   */
  failForGood(row: TaskRow, error: string, reason: FailureKind): void {
    this.setState(row, 'failed', { error, lease_worker: null, lease_expires_ms: null, gpu_indices: '[]' });
    this.events.task(this.sweepsOf(row.task_id), row.task_id, 'task.failed', { attempt: row.attempt, reason, message: error });
    for (const c of this.store.tasks.blockedChildren(row.task_id)) this.failForGood(c, `parent ${row.task_id} failed: ${error}`, 'parent failed');
  }

  /** Unblock (or fail) a blocked task according to its parent's state. */
  resolveBlocked(row: TaskRow): void {
    if (row.state !== 'blocked' || !row.parent_task_id) return;
    const parent = this.task(row.parent_task_id);
    if (parent.state === 'succeeded') {
      if (this.parentCheckpoint(row)) this.setState(row, 'pending');
      else this.failForGood(row, `parent ${parent.task_id} succeeded but produced no checkpoint '${row.parent_checkpoint}'`, 'no parent checkpoint');
    } else if (parent.state === 'failed') {
      this.failForGood(row, `parent ${parent.task_id} failed: ${parent.error ?? 'unknown error'}`, 'parent failed');
    }
  }

  /** The parent's checkpoint that gives a child task its gates (undefined: no parent, or not uploaded). */
  parentCheckpoint(row: TaskRow): ArtifactRow | undefined {
    if (!row.parent_task_id) return undefined;
    return this.store.artifacts.get(row.parent_task_id, row.parent_checkpoint ?? 'best');
  }
}
