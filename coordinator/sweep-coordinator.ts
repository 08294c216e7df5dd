/**
 * The coordinator's behaviour, independent of gRPC: sweeps and their tasks, leases with fencing
 * tokens, retries, dependants, artifacts, events. State lives in the Store (SQLite); every task
 * state change goes through `setState`, which checks it against task-state.ts. The clock is
 * passed in (`now`), and lease expiry runs when `expireLeases()` is called (a timer in main.ts,
 * directly in tests with a fake clock).
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { ArtifactRef, SweepInfo, TaskCounts, TaskLease } from '../gen/npf/v1/sweep.js';
import type { TrialResult } from '../science/types.js';
import { ArtifactStore, SHA256_HEX, type ArtifactUpload } from './artifact-store.js';
import { InvalidRequestError, NotFoundError, StaleLeaseError } from './errors.js';
import { decideAfterFailure, leaseExpiry, type RetryPolicy } from './lease-policy.js';
import { isPlaceableGpuRequest, placeTasks, type Candidate, type HeldAllocation } from './scheduler.js';
import { TASK_COLUMNS, type ArtifactRow, type EventRow, type ResultRow, type Store, type SweepRow, type TaskRow, type WorkerRow } from './store.js';
import type { ExpandedTask, TrialOutcome } from './sweep-types.js';
import { epochRecordsSchema, parseJsonField, parseTrialResult } from './trial-result-schema.js';
import { LEASED_STATES, TASK_STATES, isTerminal, transition, type TaskState } from './task-state.js';

/** Fully resolved options of the core (defaults applied in coordinator-options.ts). */
export interface CoreOptions extends RetryPolicy {
  leaseTtlMs: number;
  heartbeatIntervalMs: number;
  now: () => number;
  log: (line: string) => void;
}

/** A sweep event, as stored and as streamed by WatchSweep. */
export interface SweepEvent {
  sequence: number;
  timeMs: number;
  sweepId: string;
  taskId: string;
  type: 'sweep_submitted' | 'leased' | 'progress' | 'succeeded' | 'failed' | 'retried' | 'cancelled' | 'sweep_complete';
  payload: Record<string, unknown>;
}

/** What the metrics layer is told as things happen (counters, histograms). */
export interface CoreObserver {
  leaseGranted?(n: number): void;
  leaseExpired?(n: number): void;
  taskRetried?(): void;
  taskFinished?(regime: string, seconds: number): void;
  epochObserved?(seconds: number): void;
  trialResult?(sweepId: string, regime: string, bestTestAccuracy: number): void;
}

export interface SubmitInput {
  name: string;
  fileName: string;
  specYaml: string;
  overrides: readonly string[];
  tasks: readonly ExpandedTask[];
}

export interface SubmitOutcome {
  sweepId: string;
  totalTasks: number;
  alreadyDone: number;
}

export interface RegisterInput {
  hostname: string;
  resources: { cpu: number; gpu: number; memoryMb: number };
  backends: readonly string[];
  version: string;
}

export interface ProgressInput {
  taskId: string;
  fencingToken: number;
  epoch: number;
  epochsJson: string;
}

export interface UploadHeader {
  taskId: string;
  fencingToken: number;
  ref: ArtifactRef;
}

/** One result of CompleteTasks (the fields of a CompleteTaskRequest that matter per item). */
export interface CompletionReport {
  workerId: string;
  taskId: string;
  fencingToken: number;
  /** TrialResult as JSON (science/types.ts). */
  resultJson: string;
  artifacts: readonly ArtifactRef[];
}

/** What became of one CompleteTasks item: recorded, or refused with the typed error CompleteTask would have thrown. */
export type CompletionOutcome = { taskId: string; ok: true } | { taskId: string; ok: false; error: unknown };

/** A report whose ids and result JSON passed the checks that need no database. */
interface CheckedReport {
  taskId: string;
  fencingToken: number;
  resultJson: string;
  artifacts: readonly ArtifactRef[];
  result: TrialResult;
}

/** Most items one CompleteTasks call may carry. */
export const MAX_BATCH = 256;

const CANCELLED_ON_WORKER = 'the trial was cancelled on the worker before it finished';

type EventType = SweepEvent['type'];

const TERMINAL_SQL = "('succeeded','failed','cancelled')";

function emptyCounts(): TaskCounts {
  return { blocked: 0, pending: 0, leased: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
}

function requireId(value: string, field: string): void {
  if (!value || !value.trim()) throw new InvalidRequestError(`${field} is empty`, { field });
}

function requireLeaseNext(leaseNext: number): void {
  if (!Number.isInteger(leaseNext) || leaseNext < 0) {
    throw new InvalidRequestError(`lease_next ${leaseNext} is invalid: send 0 (lease nothing) or a positive number of tasks`, { field: 'lease_next' });
  }
}

/** Table cell of a trial: its key without the seed. */
function cellKeyOf(key: ExpandedTask['key']): string {
  const { seed: _seed, ...rest } = key;
  return JSON.stringify(Object.keys(rest).sort().map((k) => [k, (rest as Record<string, unknown>)[k]]));
}

/** Stable id of a sweep: its name and the content hashes of its trials. */
export function sweepIdOf(name: string, taskIds: readonly string[]): string {
  const h = crypto.createHash('sha256').update(name).update('\n');
  for (const id of [...taskIds].sort()) h.update(id).update('\n');
  return `sw-${h.digest('hex').slice(0, 12)}`;
}

export class SweepCoordinator {
  private readonly listeners = new Set<(e: SweepEvent) => void>();
  /** Long polls waiting for work, by worker. */
  private readonly readyWaiters = new Map<string, Set<() => void>>();
  private readonly observer: CoreObserver;
  /** Sweeps whose open-task count reached a terminal change in the current write. */
  private readonly touchedSweeps = new Set<string>();
  private readonly sweepCache = new Map<string, string[]>();
  /** Wake-ups of all long polls, and of each worker's: a lease attempt compares them before waiting. */
  private wakeCount = 0;
  private readonly workerWakes = new Map<string, number>();
  /** When each worker's last_seen_ms was last written (touchWorker). */
  private readonly workerSeenWritten = new Map<string, number>();

  constructor(
    readonly store: Store,
    readonly artifacts: ArtifactStore,
    readonly opts: CoreOptions,
    observer: CoreObserver = {},
  ) {
    this.observer = observer;
  }

  // ---------------------------------------------------------------- events

  /** Follow every event after it is committed. Returns the unsubscribe function. */
  onEvent(listener: (e: SweepEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stored events of a sweep with sequence > afterSeq, oldest first. */
  events(sweepId: string, afterSeq = 0): SweepEvent[] {
    return this.store
      .all<EventRow>('SELECT * FROM events WHERE sweep_id = ? AND seq > ? ORDER BY seq', sweepId, afterSeq)
      .map(toEvent);
  }

  private emit(sweepIds: readonly string[], taskId: string, type: EventType, payload: Record<string, unknown>): void {
    const now = this.opts.now();
    const json = JSON.stringify(payload);
    for (const sweepId of sweepIds) {
      const r = this.store.run(
        'INSERT INTO events (time_ms, sweep_id, task_id, type, payload_json) VALUES (?, ?, ?, ?, ?)',
        now,
        sweepId,
        taskId,
        type,
        json,
      );
      const ev: SweepEvent = { sequence: Number(r.lastInsertRowid), timeMs: now, sweepId, taskId, type, payload };
      this.store.afterCommit(() => {
        for (const l of this.listeners) l(ev);
      });
    }
  }

  /** Sweeps linked to a task. Cached: links only change in submitSweep, which clears the cache. */
  private sweepsOf(taskId: string): string[] {
    let ids = this.sweepCache.get(taskId);
    if (!ids) {
      ids = this.store.all<{ sweep_id: string }>('SELECT sweep_id FROM sweep_tasks WHERE task_id = ?', taskId).map((r) => r.sweep_id);
      this.sweepCache.set(taskId, ids);
    }
    return ids;
  }

  // ---------------------------------------------------------------- the one state-change path

  private task(taskId: string): TaskRow {
    const row = this.store.get<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE task_id = ?`, taskId);
    if (!row) throw new NotFoundError('task', taskId);
    return row;
  }

  /**
   * Move a task to `to` (checked against the transition table), writing `fields` with it, and
   * keep each linked sweep's count of open tasks (closing the sweep when it reaches zero).
   */
  private setState(row: TaskRow, to: TaskState, fields: Partial<Omit<TaskRow, 'task_id' | 'seq' | 'state'>> = {}): void {
    transition(row.task_id, row.state, to);
    // Outside leased/running nobody holds a lease: clearing it keeps the per-worker and expiry
    // indexes as small as the set of live leases.
    if (!LEASED_STATES.includes(to)) fields = { ...fields, lease_worker: null, lease_expires_ms: null };
    const cols = Object.keys(fields) as Array<keyof typeof fields>;
    const sets = ['state = ?', 'updated_at_ms = ?', ...cols.map((c) => `${c} = ?`)].join(', ');
    this.store.run(`UPDATE tasks SET ${sets} WHERE task_id = ?`, to, this.opts.now(), ...cols.map((c) => fields[c]), row.task_id);
    const wasOpen = !isTerminal(row.state);
    const isOpen = !isTerminal(to);
    if (wasOpen !== isOpen) {
      const delta = isOpen ? 1 : -1;
      for (const sweepId of this.sweepsOf(row.task_id)) {
        const left = this.store.get<{ open_tasks: number }>(
          'UPDATE sweeps SET open_tasks = open_tasks + ? WHERE sweep_id = ? RETURNING open_tasks',
          delta,
          sweepId,
        );
        if (!isOpen && left?.open_tasks === 0) this.touchedSweeps.add(sweepId);
      }
    }
    // A task became ready, or a lease ended and freed its worker's resources: long polls retry.
    if (to === 'pending') {
      this.store.afterCommit(() => this.wakeWaiters());
    } else if (LEASED_STATES.includes(row.state) && !LEASED_STATES.includes(to) && row.lease_worker) {
      const worker = row.lease_worker;
      this.store.afterCommit(() => this.wakeWaiters(worker));
    }
    row.state = to;
  }

  /** One atomic, group-committed write; sweeps emptied by it close at its end (after its task events). */
  private write<T>(fn: () => T): Promise<T> {
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

  private maybeCloseSweep(sweepId: string): void {
    const s = this.store.get<Pick<SweepRow, 'state' | 'open_tasks'>>('SELECT state, open_tasks FROM sweeps WHERE sweep_id = ?', sweepId);
    if (!s || s.state !== 'running' || s.open_tasks > 0) return;
    const failed = this.store.get<{ n: number }>(
      "SELECT count(*) AS n FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id WHERE st.sweep_id = ? AND t.state = 'failed'",
      sweepId,
    )!.n;
    const state = failed > 0 ? 'failed' : 'complete';
    this.store.run('UPDATE sweeps SET state = ? WHERE sweep_id = ?', state, sweepId);
    this.emit([sweepId], '', 'sweep_complete', { state, counts: this.countsOf(sweepId) });
  }

  // ---------------------------------------------------------------- sweeps

  /** Record a sweep and its trials; trials that already succeeded (same task id) do not run again. */
  submitSweep(input: SubmitInput): Promise<SubmitOutcome> {
    if (input.tasks.length === 0) throw new InvalidRequestError(`sweep '${input.name}' expands to no trials`);
    const ids = new Set<string>();
    for (const t of input.tasks) {
      requireId(t.taskId, 'taskId');
      if (ids.has(t.taskId)) throw new InvalidRequestError(`sweep '${input.name}': trial ${t.taskId} appears twice`);
      ids.add(t.taskId);
      const r = t.resources;
      if (!(r.cpu >= 0) || !(r.memoryMb >= 0) || !isPlaceableGpuRequest(r.gpu)) {
        throw new InvalidRequestError(
          `trial ${t.taskId}: resources ${JSON.stringify(r)} are not schedulable (gpu must be 0, a fraction <= 1 or a whole number; cpu and memoryMb >= 0)`,
          { taskId: t.taskId },
        );
      }
    }
    const sweepId = sweepIdOf(input.name, [...ids]);
    this.sweepCache.clear();
    return this.write(() => {
      const now = this.opts.now();
      const existing = this.store.get<SweepRow>('SELECT * FROM sweeps WHERE sweep_id = ?', sweepId);
      const cells = new Set(input.tasks.map((t) => cellKeyOf(t.key)));
      if (!existing) {
        this.store.run(
          'INSERT INTO sweeps (sweep_id, name, file_name, spec_yaml, overrides_json, state, created_at_ms, cells_total, open_tasks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)',
          sweepId,
          input.name,
          input.fileName,
          input.specYaml,
          JSON.stringify(input.overrides),
          'running',
          now,
          cells.size,
        );
      } else {
        this.store.run("UPDATE sweeps SET state = 'running' WHERE sweep_id = ?", sweepId);
      }
      // Parents first, so a child sees its parent's (re-armed) state.
      const order = [...input.tasks].sort((a, b) => (a.parent ? 1 : 0) - (b.parent ? 1 : 0));
      let alreadyDone = 0;
      const fresh: string[] = [];
      for (const t of order) {
        if (t.parent && !ids.has(t.parent.taskId) && !this.store.get('SELECT 1 FROM tasks WHERE task_id = ?', t.parent.taskId)) {
          throw new InvalidRequestError(`trial ${t.taskId} depends on ${t.parent.taskId}, which is neither in this sweep nor known`);
        }
        let row = this.store.get<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE task_id = ?`, t.taskId);
        if (!row) {
          this.store.run(
            'INSERT INTO task_docs (task_id, key_json, spec_json) VALUES (?, ?, ?)',
            t.taskId,
            JSON.stringify(t.key),
            JSON.stringify(specWithoutGates(t.spec)),
          );
          this.store.run(
            `INSERT INTO tasks (task_id, cell_key, regime, parent_task_id, parent_checkpoint, cpu, gpu, memory_mb, priority, state, updated_at_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            t.taskId,
            cellKeyOf(t.key),
            t.key.regime,
            t.parent?.taskId ?? null,
            t.parent?.checkpoint ?? null,
            t.resources.cpu,
            t.resources.gpu,
            Math.round(t.resources.memoryMb),
            Math.round(t.priority),
            t.parent ? 'blocked' : 'pending',
            now,
          );
          row = this.task(t.taskId);
          fresh.push(t.taskId);
        } else if (row.state === 'succeeded') {
          alreadyDone++;
        } else if (row.state === 'failed' || row.state === 'cancelled') {
          this.setState(row, t.parent ? 'blocked' : 'pending', { tries: 0, not_before_ms: 0, error: null });
        }
        const linked = this.store.run('INSERT OR IGNORE INTO sweep_tasks (sweep_id, task_id) VALUES (?, ?)', sweepId, t.taskId);
        if (!isTerminal(row.state)) {
          // Count it open for this sweep unless setState already did (re-arm of a linked task).
          if (linked.changes === 1) this.store.run('UPDATE sweeps SET open_tasks = open_tasks + 1 WHERE sweep_id = ?', sweepId);
        }
        if (t.parent) this.store.run('UPDATE tasks SET has_dependants = 1 WHERE task_id = ?', t.parent.taskId);
        if (row.state === 'blocked') this.resolveBlocked(row);
        if (row.state === 'pending') this.store.afterCommit(() => this.wakeWaiters());
      }
      this.emit([sweepId], '', 'sweep_submitted', { name: input.name, tasks: input.tasks.length, cells: cells.size, alreadyDone });
      this.maybeCloseSweep(sweepId);
      // Links written in this (possibly rolled back) write must not linger in the cache; once
      // committed, a new task's only link is this sweep.
      this.sweepCache.clear();
      this.store.afterCommit(() => {
        for (const id of fresh) if (!this.sweepCache.has(id)) this.sweepCache.set(id, [sweepId]);
      });
      return { sweepId, totalTasks: input.tasks.length, alreadyDone };
    });
  }

  /** Unblock (or fail) a blocked task according to its parent's state. */
  private resolveBlocked(row: TaskRow): void {
    if (row.state !== 'blocked' || !row.parent_task_id) return;
    const parent = this.task(row.parent_task_id);
    if (parent.state === 'succeeded') {
      const art = this.parentArtifact(row);
      if (art) this.setState(row, 'pending');
      else this.failForGood(row, `parent ${parent.task_id} succeeded but produced no checkpoint '${row.parent_checkpoint}'`);
    } else if (parent.state === 'failed') {
      this.failForGood(row, `parent ${parent.task_id} failed: ${parent.error ?? 'unknown error'}`);
    }
  }

  private parentArtifact(row: TaskRow): ArtifactRow | undefined {
    if (!row.parent_task_id) return undefined;
    return this.store.get<ArtifactRow>(
      'SELECT * FROM artifacts WHERE task_id = ? AND name = ?',
      row.parent_task_id,
      row.parent_checkpoint ?? 'best',
    );
  }

  /** Fail a task for good and, recursively, every blocked dependant. */
  private failForGood(row: TaskRow, reason: string): void {
    this.setState(row, 'failed', { error: reason, lease_worker: null, lease_expires_ms: null, gpu_indices: '[]' });
    this.emit(this.sweepsOf(row.task_id), row.task_id, 'failed', { error: reason, attempt: row.attempt });
    const children = this.store.all<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE parent_task_id = ? AND state = 'blocked'`, row.task_id);
    for (const c of children) this.failForGood(c, `parent ${row.task_id} failed: ${reason}`);
  }

  cancelSweep(sweepId: string): Promise<number> {
    requireId(sweepId, 'sweep_id');
    this.sweepRow(sweepId);
    return this.write(() => {
      const open = this.store.all<TaskRow>(
        `SELECT t.* FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id WHERE st.sweep_id = ? AND t.state NOT IN ${TERMINAL_SQL} ORDER BY t.seq`,
        sweepId,
      );
      // The sweep closes as 'cancelled', not 'complete'.
      this.store.run("UPDATE sweeps SET state = 'cancelling' WHERE sweep_id = ? AND state = 'running'", sweepId);
      let n = 0;
      for (const row of open) {
        // A trial shared with another running sweep keeps running for that one.
        const other = this.store.get(
          "SELECT 1 FROM sweep_tasks st JOIN sweeps s ON s.sweep_id = st.sweep_id WHERE st.task_id = ? AND st.sweep_id <> ? AND s.state = 'running'",
          row.task_id,
          sweepId,
        );
        if (other) continue;
        if (LEASED_STATES.includes(row.state)) this.recordAttempt(row, 'cancelled', 'sweep cancelled');
        this.setState(row, 'cancelled', { error: 'sweep cancelled' });
        this.emit(this.sweepsOf(row.task_id), row.task_id, 'cancelled', { attempt: row.attempt });
        n++;
      }
      const s = this.sweepRow(sweepId);
      if (s.state === 'cancelling') {
        this.store.run("UPDATE sweeps SET state = 'cancelled' WHERE sweep_id = ?", sweepId);
        this.emit([sweepId], '', 'sweep_complete', { state: 'cancelled', counts: this.countsOf(sweepId) });
      }
      return n;
    });
  }

  private sweepRow(sweepId: string): SweepRow {
    const s = this.store.get<SweepRow>('SELECT * FROM sweeps WHERE sweep_id = ?', sweepId);
    if (!s) throw new NotFoundError('sweep', sweepId);
    return s;
  }

  countsOf(sweepId: string): TaskCounts {
    const counts = emptyCounts();
    for (const r of this.store.all<{ state: TaskState; n: number }>(
      'SELECT t.state AS state, count(*) AS n FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id WHERE st.sweep_id = ? GROUP BY t.state',
      sweepId,
    )) {
      counts[r.state] = r.n;
    }
    return counts;
  }

  private cellsComplete(sweepId: string): number {
    return this.store.get<{ n: number }>(
      `SELECT count(*) AS n FROM (SELECT t.cell_key FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id
        WHERE st.sweep_id = ? GROUP BY t.cell_key HAVING sum(t.state <> 'succeeded') = 0)`,
      sweepId,
    )!.n;
  }

  getSweep(sweepId: string): SweepInfo {
    requireId(sweepId, 'sweep_id');
    return this.info(this.sweepRow(sweepId));
  }

  listSweeps(): SweepInfo[] {
    return this.store.all<SweepRow>('SELECT * FROM sweeps ORDER BY created_at_ms DESC, rowid DESC').map((s) => this.info(s));
  }

  private info(s: SweepRow): SweepInfo {
    return {
      sweepId: s.sweep_id,
      name: s.name,
      state: s.state,
      createdAtMs: s.created_at_ms,
      counts: this.countsOf(s.sweep_id),
      cellsComplete: this.cellsComplete(s.sweep_id),
      cellsTotal: s.cells_total,
    };
  }

  /** Every trial of a sweep with its result, for the results module. */
  outcomes(sweepId: string): TrialOutcome[] {
    this.sweepRow(sweepId);
    const rows = this.store.all<TaskRow & { key_json: string; result_json: string | null; result_status: string | null }>(
      `SELECT t.*, d.key_json AS key_json, r.result_json AS result_json, r.status AS result_status FROM sweep_tasks st
        JOIN tasks t ON t.task_id = st.task_id JOIN task_docs d ON d.task_id = t.task_id LEFT JOIN results r ON r.task_id = t.task_id
        WHERE st.sweep_id = ? ORDER BY t.seq`,
      sweepId,
    );
    return rows.map((r) => {
      const status: TrialOutcome['status'] =
        r.state === 'succeeded'
          ? r.result_status === 'diverged'
            ? 'diverged'
            : 'succeeded'
          : r.state === 'failed' || r.state === 'cancelled'
            ? r.state
            : 'pending';
      return {
        taskId: r.task_id,
        key: JSON.parse(r.key_json) as TrialOutcome['key'],
        status,
        ...(r.result_json ? { result: JSON.parse(r.result_json) as TrialResult } : {}),
      };
    });
  }

  /** The spec text a sweep was submitted with. */
  sweepSource(sweepId: string): { specYaml: string; fileName: string; overrides: string[] } {
    const s = this.sweepRow(sweepId);
    return { specYaml: s.spec_yaml, fileName: s.file_name, overrides: JSON.parse(s.overrides_json) as string[] };
  }

  /** The stored result of one task, if it finished. */
  result(taskId: string): TrialResult | undefined {
    const r = this.store.get<ResultRow>('SELECT * FROM results WHERE task_id = ?', taskId);
    return r ? (JSON.parse(r.result_json) as TrialResult) : undefined;
  }

  /** Current state of one task (tests, `npf run`). */
  taskState(taskId: string): { state: TaskState; attempt: number; tries: number; error: string | null; notBeforeMs: number } {
    const r = this.task(taskId);
    return { state: r.state, attempt: r.attempt, tries: r.tries, error: r.error, notBeforeMs: r.not_before_ms };
  }

  // ---------------------------------------------------------------- workers and leases

  registerWorker(input: RegisterInput): Promise<{ workerId: string; leaseTtlMs: number; heartbeatIntervalMs: number }> {
    const r = input.resources;
    if (!(r.cpu > 0) || !(r.gpu >= 0) || !Number.isInteger(r.gpu) || !(r.memoryMb > 0)) {
      throw new InvalidRequestError(
        `worker resources ${JSON.stringify(r)} are invalid: cpu and memory_mb must be > 0, gpu a whole number of devices >= 0`,
      );
    }
    const host = (input.hostname || os.hostname()).replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 40) || 'worker';
    const workerId = `${host}-${crypto.randomBytes(4).toString('hex')}`;
    return this.write(() => {
      const now = this.opts.now();
      this.store.run(
        `INSERT INTO workers (worker_id, hostname, cpu, gpu, memory_mb, backends_json, version, draining, registered_at_ms, last_seen_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
        workerId,
        input.hostname,
        r.cpu,
        r.gpu,
        Math.round(r.memoryMb),
        JSON.stringify(input.backends),
        input.version,
        now,
        now,
      );
      this.store.afterCommit(() => this.opts.log(`worker ${workerId} registered: cpu=${r.cpu} gpu=${r.gpu} memoryMb=${r.memoryMb}`));
      return { workerId, leaseTtlMs: this.opts.leaseTtlMs, heartbeatIntervalMs: this.opts.heartbeatIntervalMs };
    });
  }

  private worker(workerId: string): WorkerRow {
    requireId(workerId, 'worker_id');
    const w = this.store.get<WorkerRow>('SELECT * FROM workers WHERE worker_id = ?', workerId);
    if (!w) throw new NotFoundError('worker', workerId, 'register it first (RegisterWorker)');
    return w;
  }

  /** Workers seen within one lease TTL. */
  liveWorkers(): WorkerRow[] {
    return this.store.all<WorkerRow>('SELECT * FROM workers WHERE last_seen_ms > ?', this.opts.now() - this.opts.leaseTtlMs);
  }

  /** Resources held by leases, summed (for metrics). */
  usedResources(): { cpu: number; gpu: number; memoryMb: number } {
    const r = this.store.get<{ cpu: number | null; gpu: number | null; mem: number | null }>(
      "SELECT sum(cpu) AS cpu, sum(gpu) AS gpu, sum(memory_mb) AS mem FROM tasks WHERE state IN ('leased','running')",
    )!;
    return { cpu: r.cpu ?? 0, gpu: r.gpu ?? 0, memoryMb: r.mem ?? 0 };
  }

  /** Count of tasks by state over all sweeps. */
  taskCounts(): TaskCounts {
    const counts = emptyCounts();
    for (const r of this.store.all<{ state: TaskState; n: number }>('SELECT state, count(*) AS n FROM tasks GROUP BY state')) counts[r.state] = r.n;
    return counts;
  }

  /** Lease what fits now (possibly nothing). One group commit for the whole batch. */
  leaseNow(workerId: string, maxTasks: number): Promise<TaskLease[]> {
    return this.write(() => this.leaseWithinWrite(workerId, maxTasks));
  }

  /**
   * Record that a worker was seen (workers.last_seen_ms, read by liveWorkers() for the metrics):
   * at most once a second per worker, not once per lease, which at thousands of leases a second
   * is a row rewrite per lifecycle for a value read with a lease-TTL granularity.
   */
  private touchWorker(workerId: string, now: number): void {
    const last = this.workerSeenWritten.get(workerId);
    if (last !== undefined && now >= last && now - last < 1000) return;
    this.store.run('UPDATE workers SET last_seen_ms = ? WHERE worker_id = ?', now, workerId);
    // Only once committed: a rolled-back write must not suppress the next update.
    this.store.afterCommit(() => this.workerSeenWritten.set(workerId, now));
  }

  /** The worker's resources and draining flag (the columns leasing needs; NOT_FOUND if unknown). */
  private leaseWorker(workerId: string): Pick<WorkerRow, 'cpu' | 'gpu' | 'memory_mb' | 'draining'> {
    requireId(workerId, 'worker_id');
    const w = this.store.get<Pick<WorkerRow, 'cpu' | 'gpu' | 'memory_mb' | 'draining'>>(
      'SELECT cpu, gpu, memory_mb, draining FROM workers WHERE worker_id = ?',
      workerId,
    );
    if (!w) throw new NotFoundError('worker', workerId, 'register it first (RegisterWorker)');
    return w;
  }

  /**
   * Lease up to `maxTasks` tasks that fit the worker's free resources, inside the current write
   * (LeaseTasks, and CompleteTask's lease_next after the result is recorded).
   *
   * Hot path: the ready queue is read as narrow raw rows (materialising 21-column objects for
   * the whole look-ahead cost ~0.8 ms a call), and only the placed tasks are read in full.
   */
  private leaseWithinWrite(workerId: string, maxTasks: number): TaskLease[] {
    const w = this.leaseWorker(workerId);
    const max = Math.max(1, Math.min(Math.floor(maxTasks) || 1, 256));
    const now = this.opts.now();
    this.touchWorker(workerId, now);
    if (w.draining) return [];
    let held: HeldAllocation[];
    if (w.gpu > 0) {
      held = this.store
        .raw<[number, number, number, string]>(
          "SELECT cpu, gpu, memory_mb, gpu_indices FROM tasks WHERE lease_worker = ? AND state IN ('leased','running')",
          workerId,
        )
        .map(([cpu, gpu, memoryMb, gpuIndices]) => ({ resources: { cpu, gpu, memoryMb }, gpuIndices: JSON.parse(gpuIndices) as number[] }));
    } else {
      // No devices to track: what the worker holds is one pooled cpu/memory sum (one row, not one per lease).
      const [n, cpu, memoryMb] = this.store.raw<[number, number, number]>(
        "SELECT count(*), total(cpu), total(memory_mb) FROM tasks WHERE lease_worker = ? AND state IN ('leased','running')",
        workerId,
      )[0];
      held = n > 0 ? [{ resources: { cpu, gpu: 0, memoryMb }, gpuIndices: [] }] : [];
    }
    let freeCpu = w.cpu;
    let freeMem = w.memory_mb;
    for (const h of held) {
      freeCpu -= h.resources.cpu;
      freeMem -= h.resources.memoryMb;
    }
    // Enough to skip tasks that do not fit (GPU shape, packing) without reading the whole queue.
    // One task for a worker without GPUs (CompleteTask's lease_next): every row already fits on
    // its own and the scheduler's order is the index's, so the first row is its choice.
    const limit = w.gpu === 0 && max === 1 ? 1 : Math.max(32, max * 2);
    // The scheduler orders candidates itself; the query walks the ready index in order. LIMIT is
    // a literal (an integer from the line above, at most 512 distinct statements): with a bound
    // `LIMIT ?` SQLite spends ~20 us more per call here (measured), a third of a lease.
    const rows = this.store.raw<[number, string, number, number, number, number, number]>(
      `SELECT seq, task_id, cpu, gpu, memory_mb, priority, has_dependants FROM tasks
         WHERE state = 'pending' AND not_before_ms <= ? AND cpu <= ? AND memory_mb <= ? AND gpu <= ?
         ORDER BY priority DESC, has_dependants DESC, seq LIMIT ${Math.trunc(limit)}`,
      now,
      freeCpu + 1e-9,
      freeMem,
      w.gpu,
    );
    if (rows.length === 0) return [];
    const candidates: Candidate[] = rows.map(([seq, taskId, cpu, gpu, memoryMb, priority, hasDependants]) => ({
      taskId,
      resources: { cpu, gpu, memoryMb },
      priority,
      hasDependants: hasDependants === 1,
      seq,
    }));
    const placements = placeTasks({ cpu: w.cpu, gpu: w.gpu, memoryMb: w.memory_mb }, held, candidates, max);
    const leases: TaskLease[] = [];
    for (const p of placements) {
      const row = this.task(p.taskId);
      const specJson = this.store.get<{ spec_json: string }>('SELECT spec_json FROM task_docs WHERE task_id = ?', p.taskId)!.spec_json;
      const attempt = row.attempt + 1;
      const parentArt = row.parent_task_id ? this.parentArtifact(row) : undefined;
      this.setState(row, 'leased', {
        attempt,
        tries: row.tries + 1,
        lease_worker: workerId,
        lease_expires_ms: leaseExpiry(now, this.opts.leaseTtlMs),
        leased_at_ms: now,
        gpu_indices: p.gpuIndices.length ? JSON.stringify(p.gpuIndices) : '[]',
        error: null,
      });
      const sweeps = this.sweepsOf(row.task_id);
      this.emit(sweeps, row.task_id, 'leased', { workerId, attempt, gpuIndex: p.gpuIndices[0] ?? -1 });
      leases.push({
        taskId: row.task_id,
        sweepId: sweeps[0] ?? '',
        fencingToken: attempt,
        specJson,
        gatesFrom: parentArt ? { name: parentArt.name, sha256: parentArt.sha256, size: parentArt.size, epoch: parentArt.epoch } : undefined,
        resources: { cpu: row.cpu, gpu: row.gpu, memoryMb: row.memory_mb },
        gpuIndex: p.gpuIndices[0] ?? -1,
      });
    }
    if (leases.length) this.store.afterCommit(() => this.observer.leaseGranted?.(leases.length));
    return leases;
  }

  /**
   * Lease tasks for a worker, holding the call up to `waitMs` when nothing fits now (long poll).
   * `signal` ends the wait early (client gone, server stopping).
   */
  async leaseTasks(workerId: string, maxTasks: number, waitMs: number, signal?: AbortSignal): Promise<TaskLease[]> {
    const deadline = Date.now() + Math.max(0, Math.min(waitMs, 120_000));
    for (;;) {
      // A wake-up between this lease attempt and the wait below must not be lost (a completion
      // committed while our empty attempt awaited its own commit): compare wake counts.
      const seen = this.wakesOf(workerId);
      const leases = await this.leaseNow(workerId, maxTasks);
      if (leases.length > 0 || Date.now() >= deadline || signal?.aborted) return leases;
      if (this.wakesOf(workerId) !== seen) continue;
      await this.waitForReady(workerId, deadline - Date.now(), signal);
      if (signal?.aborted) return [];
    }
  }

  private waitForReady(workerId: string, ms: number, signal?: AbortSignal): Promise<void> {
    // Wake for a task becoming pending, this worker's resources freeing, or the earliest backoff end.
    const next = this.store.get<{ t: number | null }>("SELECT min(not_before_ms) AS t FROM tasks WHERE state = 'pending' AND not_before_ms > ?", this.opts.now());
    const untilBackoff = next?.t != null ? Math.max(1, next.t - this.opts.now()) : Infinity;
    const wait = Math.max(1, Math.min(ms, untilBackoff));
    let set = this.readyWaiters.get(workerId);
    if (!set) {
      set = new Set();
      this.readyWaiters.set(workerId, set);
    }
    const waiters = set;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.readyWaiters.get(workerId) === waiters) this.readyWaiters.delete(workerId);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Wake the long polls of one worker (its resources freed), or of all (a task became ready). */
  private wakesOf(workerId: string): number {
    return this.wakeCount + (this.workerWakes.get(workerId) ?? 0);
  }

  private wakeWaiters(workerId?: string): void {
    if (workerId) this.workerWakes.set(workerId, (this.workerWakes.get(workerId) ?? 0) + 1);
    else this.wakeCount++;
    const sets = workerId ? [this.readyWaiters.get(workerId)] : [...this.readyWaiters.values()];
    for (const set of sets) if (set) for (const w of [...set]) w();
  }


  /** Renew a worker's leases, record progress; answer the task ids it must stop. */
  heartbeat(workerId: string, tasks: readonly ProgressInput[], draining: boolean): Promise<{ cancelTaskIds: string[] }> {
    this.worker(workerId);
    const parsed = tasks.map((p) => {
      requireId(p.taskId, 'tasks[].task_id');
      const epochs = p.epochsJson ? parseJsonField(p.epochsJson, epochRecordsSchema, `epochs_json of task ${p.taskId}`) : [];
      return { ...p, epochs };
    });
    return this.write(() => {
      const now = this.opts.now();
      this.store.run('UPDATE workers SET last_seen_ms = ?, draining = ? WHERE worker_id = ?', now, draining ? 1 : 0, workerId);
      // Renew only the leases the worker reports holding: a lease whose grant never reached the
      // worker (a lost LeaseTasks / CompleteTask answer) is not renewed and expires, so it cannot
      // stay 'running' for as long as the worker lives. The worker reports every task from the
      // moment it starts it, so one heartbeat interval (< TTL / 2) covers a grant in flight.
      const expires = leaseExpiry(now, this.opts.leaseTtlMs);
      const cancel: string[] = [];
      const epochSeconds: number[] = [];
      for (const p of parsed) {
        const row = this.store.get<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE task_id = ?`, p.taskId);
        if (!row || row.attempt !== p.fencingToken || row.lease_worker !== workerId || !LEASED_STATES.includes(row.state)) {
          cancel.push(p.taskId);
          continue;
        }
        this.store.run('UPDATE tasks SET lease_expires_ms = ? WHERE task_id = ?', expires, row.task_id);
        if (row.state === 'leased') this.setState(row, 'running');
        const sweeps = p.epochs.length ? this.sweepsOf(row.task_id) : [];
        for (const e of p.epochs) {
          this.store.run(
            'INSERT OR REPLACE INTO progress (task_id, attempt, epoch, record_json) VALUES (?, ?, ?, ?)',
            row.task_id,
            row.attempt,
            e.epoch,
            JSON.stringify(e),
          );
          epochSeconds.push(e.durationMs / 1000);
          this.emit(sweeps, row.task_id, 'progress', {
            attempt: row.attempt,
            epoch: e.epoch,
            testAccuracy: e.testAccuracy,
            trainLoss: e.trainLoss,
          });
        }
      }
      if (epochSeconds.length) this.store.afterCommit(() => epochSeconds.forEach((s) => this.observer.epochObserved?.(s)));
      return { cancelTaskIds: cancel };
    });
  }

  /** The task row if (workerId, fencingToken) holds its current lease; otherwise a typed refusal. */
  private fenced(workerId: string, taskId: string, fencingToken: number): TaskRow {
    requireId(taskId, 'task_id');
    return this.checkFence(this.task(taskId), workerId, fencingToken);
  }

  /** `row` if (workerId, fencingToken) holds its current lease; otherwise a typed refusal. */
  private checkFence(row: TaskRow, workerId: string, fencingToken: number): TaskRow {
    const taskId = row.task_id;
    if (row.attempt !== fencingToken) {
      throw new StaleLeaseError(`stale fencing token ${fencingToken} for task ${taskId} (current attempt ${row.attempt})`, {
        taskId,
        fencingToken,
        currentAttempt: row.attempt,
      });
    }
    if (!LEASED_STATES.includes(row.state)) {
      throw new StaleLeaseError(`task ${taskId} is ${row.state}, not leased: fencing token ${fencingToken} no longer holds a lease`, {
        taskId,
        fencingToken,
        currentAttempt: row.attempt,
      });
    }
    if (row.lease_worker !== workerId) {
      throw new StaleLeaseError(`task ${taskId} attempt ${row.attempt} is leased to ${row.lease_worker}, not ${workerId}`, {
        taskId,
        fencingToken,
        currentAttempt: row.attempt,
      });
    }
    return row;
  }

  /**
   * Record a task's result. A result with status 'diverged' is a successful completion, never
   * retried. With `leaseNext` > 0 the same atomic write then leases up to that many tasks to the
   * worker (CompleteTask's lease_next) and returns them; a refused report (stale fencing token,
   * lease lost, unknown artifact) rolls back and leases nothing. A repeated report of a result
   * already recorded (a client retry whose first answer was lost) still leases: the worker never
   * saw the first answer's leases, which expire on their own.
   */
  completeTask(
    workerId: string,
    taskId: string,
    fencingToken: number,
    resultJson: string,
    artifacts: readonly ArtifactRef[],
    leaseNext = 0,
  ): Promise<{ nextLeases: TaskLease[] }> {
    requireId(workerId, 'worker_id');
    requireLeaseNext(leaseNext);
    const report = this.checkReport({ taskId, fencingToken, resultJson, artifacts });
    if (report.result.status === 'cancelled') {
      // The trial stopped before finishing (worker draining): hand it back for another attempt.
      return this.failTask(workerId, taskId, fencingToken, CANCELLED_ON_WORKER, true).then(() => ({ nextLeases: [] }));
    }
    return this.write(() => {
      this.completeWithinWrite(workerId, report);
      // After the result: this task's lease is gone, so its resources are free for the next one.
      return { nextLeases: leaseNext > 0 ? this.leaseWithinWrite(workerId, leaseNext) : [] };
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
  completeTasks(
    items: readonly CompletionReport[],
    leaseNext = 0,
  ): Promise<{ outcomes: CompletionOutcome[]; nextLeases: TaskLease[] }> {
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
        return this.checkReport(item);
      } catch (error) {
        return { error };
      }
    });
    return this.write(() => {
      const outcomes: CompletionOutcome[] = checked.map((c, i) => {
        if ('error' in c) return { taskId: items[i].taskId, ok: false, error: c.error };
        try {
          this.store.within(() => {
            if (c.result.status === 'cancelled') this.failWithinWrite(workerId, c.taskId, c.fencingToken, CANCELLED_ON_WORKER, true);
            else this.completeWithinWrite(workerId, c);
          });
          return { taskId: c.taskId, ok: true };
        } catch (error) {
          return { taskId: c.taskId, ok: false, error };
        }
      });
      const accepted = outcomes.some((o) => o.ok);
      return { outcomes, nextLeases: accepted && leaseNext > 0 ? this.leaseWithinWrite(workerId, leaseNext) : [] };
    });
  }

  /** The checks of a report that need no database: ids and the result JSON (INVALID_ARGUMENT). */
  private checkReport(r: Omit<CompletionReport, 'workerId'>): CheckedReport {
    requireId(r.taskId, 'task_id');
    return { taskId: r.taskId, fencingToken: r.fencingToken, resultJson: r.resultJson, artifacts: r.artifacts, result: parseTrialResult(r.resultJson, r.taskId) };
  }

  /**
   * THE completion path, inside the current write: check the fence and the artifacts, record the
   * result, attempt and events, unblock dependants. A repeated report of the result already
   * recorded by the same attempt (a client retry) is a no-op. Throws (typed) to refuse.
   */
  private completeWithinWrite(workerId: string, r: CheckedReport): void {
    const { taskId, fencingToken, result } = r;
    const now = this.opts.now();
    const row = this.task(taskId);
    if (row.state === 'succeeded' && row.attempt === fencingToken) {
      const prior = this.store.get<ResultRow>('SELECT attempt FROM results WHERE task_id = ?', taskId);
      if (prior?.attempt === fencingToken) return; // the same report again (a client retry): already recorded
    }
    this.checkFence(row, workerId, fencingToken);
    for (const a of r.artifacts) {
      const stored = this.store.get<ArtifactRow>('SELECT * FROM artifacts WHERE task_id = ? AND name = ?', taskId, a.name);
      if (!stored || stored.sha256 !== a.sha256 || stored.attempt !== fencingToken) {
        throw new InvalidRequestError(
          `task ${taskId}: artifact '${a.name}' (sha256 ${a.sha256 || '(empty)'}) was not uploaded by attempt ${fencingToken}; upload it before CompleteTask`,
          { taskId, name: a.name },
        );
      }
    }
    this.setState(row, 'succeeded', { lease_expires_ms: null, error: null });
    this.store.run(
      'INSERT OR REPLACE INTO results (task_id, attempt, status, result_json, completed_at_ms) VALUES (?, ?, ?, ?, ?)',
      taskId,
      fencingToken,
      result.status,
      // The text as sent: validated above, and not worth a second stringify per completion.
      r.resultJson,
      now,
    );
    this.recordAttempt(row, 'succeeded', null);
    const sweeps = this.sweepsOf(taskId);
    this.emit(sweeps, taskId, 'succeeded', {
      attempt: fencingToken,
      workerId,
      status: result.status,
      bestTestAccuracy: result.bestTestAccuracy,
      bestEpoch: result.bestEpoch,
    });
    const seconds = Math.max(0, (now - (row.leased_at_ms ?? now)) / 1000);
    this.store.afterCommit(() => {
      this.observer.taskFinished?.(row.regime, seconds);
      for (const s of sweeps) this.observer.trialResult?.(s, row.regime, result.bestTestAccuracy);
    });
    if (row.has_dependants) {
      for (const child of this.store.all<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE parent_task_id = ? AND state = 'blocked' ORDER BY seq`, taskId)) {
        this.resolveBlocked(child);
      }
    }
  }

  /** Record a failed attempt; retryable ones are retried with backoff while attempts remain. */
  failTask(workerId: string, taskId: string, fencingToken: number, error: string, retryable: boolean): Promise<{ willRetry: boolean }> {
    requireId(workerId, 'worker_id');
    requireId(taskId, 'task_id');
    const reason = error.trim() || 'the worker gave no reason';
    return this.write(() => ({ willRetry: this.failWithinWrite(workerId, taskId, fencingToken, reason, retryable) }));
  }

  /** The failure path inside the current write (FailTask, and a 'cancelled' item of CompleteTasks). */
  private failWithinWrite(workerId: string, taskId: string, fencingToken: number, reason: string, retryable: boolean): boolean {
    const row = this.fenced(workerId, taskId, fencingToken);
    return this.afterFailedAttempt(row, reason, retryable, 'failed');
  }

  /**
   * Append a finished attempt to `attempts` (the attempt in progress lives in the task row:
   * attempt, lease_worker, leased_at_ms). `row` is as read before the state change.
   */
  private recordAttempt(row: TaskRow, outcome: 'succeeded' | 'failed' | 'expired' | 'cancelled', error: string | null): void {
    this.store.run(
      'INSERT OR REPLACE INTO attempts (task_id, attempt, worker_id, started_at_ms, ended_at_ms, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?)',
      row.task_id,
      row.attempt,
      row.lease_worker ?? '',
      row.leased_at_ms ?? this.opts.now(),
      this.opts.now(),
      outcome,
      error,
    );
  }

  private afterFailedAttempt(row: TaskRow, error: string, retryable: boolean, outcome: 'failed' | 'expired'): boolean {
    const now = this.opts.now();
    this.recordAttempt(row, outcome, error);
    const decision = decideAfterFailure({ attempt: row.tries, retryable, error, now }, this.opts);
    if (decision.kind === 'retry') {
      this.setState(row, 'pending', {
        not_before_ms: decision.notBeforeMs,
        lease_worker: null,
        lease_expires_ms: null,
        gpu_indices: '[]',
        error,
      });
      this.emit(this.sweepsOf(row.task_id), row.task_id, 'retried', {
        attempt: row.attempt,
        error,
        backoffMs: decision.backoffMs,
        notBeforeMs: decision.notBeforeMs,
      });
      this.store.afterCommit(() => this.observer.taskRetried?.());
      return true;
    }
    this.failForGood(row, decision.reason);
    return false;
  }

  /** Requeue (or fail) every task whose lease expired at `now`. Returns how many expired. */
  expireLeases(): Promise<number> {
    // The timer runs every second: do not open a write (and an fsync) when nothing expired.
    const any = this.store.get(
      "SELECT 1 FROM tasks WHERE state IN ('leased','running') AND lease_expires_ms IS NOT NULL AND lease_expires_ms <= ? LIMIT 1",
      this.opts.now(),
    );
    if (!any) return Promise.resolve(0);
    return this.write(() => {
      const now = this.opts.now();
      const expired = this.store.all<TaskRow>(
        `SELECT ${TASK_COLUMNS} FROM tasks WHERE state IN ('leased','running') AND lease_expires_ms IS NOT NULL AND lease_expires_ms <= ? ORDER BY seq`,
        now,
      );
      for (const row of expired) {
        this.afterFailedAttempt(
          row,
          `lease expired: worker ${row.lease_worker} sent no heartbeat within ${this.opts.leaseTtlMs} ms`,
          true,
          'expired',
        );
      }
      if (expired.length) {
        this.store.afterCommit(() => {
          this.observer.leaseExpired?.(expired.length);
          this.opts.log(`${expired.length} lease(s) expired`);
        });
      }
      return expired.length;
    });
  }

  /**
   * Hand back every lease now, whoever holds it: each task goes back to pending (or fails for
   * good when out of attempts) through the state machine, its attempt recorded as 'expired' with
   * `reason` and counted like a lease expiry (retry backoff included). For an embedded
   * coordinator whose workers are all its own child processes (`npf run`): at start, every lease
   * in the store belongs to a worker of an earlier run that is gone, so a resume need not wait
   * out the lease TTL. Returns how many leases were released.
   */
  releaseAllLeases(reason: string): Promise<number> {
    const why = reason.trim() || 'lease released by the coordinator';
    return this.write(() => {
      const held = this.store.all<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE state IN ('leased','running') ORDER BY seq`);
      for (const row of held) this.afterFailedAttempt(row, `lease released: ${why}`, true, 'expired');
      if (held.length) {
        this.store.afterCommit(() => {
          this.observer.leaseExpired?.(held.length);
          this.opts.log(`${held.length} lease(s) released: ${why}`);
        });
      }
      return held.length;
    });
  }

  // ---------------------------------------------------------------- artifacts

  /** Start an upload after checking the uploader holds the task's lease. */
  beginUpload(header: UploadHeader): ArtifactUpload {
    requireId(header.taskId, 'header.task_id');
    const ref = header.ref;
    if (!ref.name) throw new InvalidRequestError(`artifact upload for task ${header.taskId} has an empty name`);
    if (!SHA256_HEX.test(ref.sha256)) {
      throw new InvalidRequestError(`artifact '${ref.name}' of task ${header.taskId}: sha256 '${ref.sha256}' is not 64 lowercase hex digits`);
    }
    if (!(ref.size >= 0)) throw new InvalidRequestError(`artifact '${ref.name}' of task ${header.taskId}: size ${ref.size} is negative`);
    const row = this.task(header.taskId);
    this.fencedAnyWorker(row, header.fencingToken);
    return this.artifacts.begin({ taskId: header.taskId, name: ref.name, sha256: ref.sha256, size: ref.size });
  }

  private fencedAnyWorker(row: TaskRow, token: number): void {
    if (row.attempt !== token) {
      throw new StaleLeaseError(`stale fencing token ${token} for task ${row.task_id} (current attempt ${row.attempt})`, {
        taskId: row.task_id,
        fencingToken: token,
        currentAttempt: row.attempt,
      });
    }
    if (!LEASED_STATES.includes(row.state)) {
      throw new StaleLeaseError(`task ${row.task_id} is ${row.state}, not leased: fencing token ${token} no longer holds a lease`, {
        taskId: row.task_id,
        fencingToken: token,
      });
    }
  }

  /** Verify and store a finished upload; the lease must still be current. */
  finishUpload(upload: ArtifactUpload, header: UploadHeader): Promise<{ sha256: string; size: number }> {
    // Refuse before moving bytes into place when the lease was lost meanwhile.
    try {
      this.fencedAnyWorker(this.task(header.taskId), header.fencingToken);
    } catch (e) {
      upload.abort();
      throw e;
    }
    upload.finish();
    return this.write(() => {
      const row = this.task(header.taskId);
      this.fencedAnyWorker(row, header.fencingToken);
      this.store.run(
        'INSERT OR REPLACE INTO artifacts (task_id, name, attempt, sha256, size, epoch, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
        header.taskId,
        header.ref.name,
        header.fencingToken,
        header.ref.sha256,
        header.ref.size,
        header.ref.epoch,
        this.opts.now(),
      );
      return { sha256: header.ref.sha256, size: header.ref.size };
    });
  }

  /** Path of a stored artifact, or NOT_FOUND. */
  artifactPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new InvalidRequestError(`sha256 '${sha256}' is not 64 lowercase hex digits`);
    if (!this.artifacts.has(sha256)) throw new NotFoundError('artifact', sha256);
    return this.artifacts.pathOf(sha256);
  }

  /** Artifacts recorded for a task. */
  artifactsOf(taskId: string): ArtifactRef[] {
    return this.store
      .all<ArtifactRow>('SELECT * FROM artifacts WHERE task_id = ? ORDER BY name', taskId)
      .map((a) => ({ name: a.name, sha256: a.sha256, size: a.size, epoch: a.epoch }));
  }

  /** Finished attempts of a task, oldest first. */
  attemptsOf(taskId: string): Array<{ attempt: number; workerId: string; outcome: string; error: string | null }> {
    return this.store
      .all<{ attempt: number; worker_id: string; outcome: string; error: string | null }>(
        'SELECT attempt, worker_id, outcome, error FROM attempts WHERE task_id = ? ORDER BY attempt',
        taskId,
      )
      .map((a) => ({ attempt: a.attempt, workerId: a.worker_id, outcome: a.outcome, error: a.error }));
  }

  /** Ids of all tasks of a sweep in submission order (tests, `npf run`). */
  taskIdsOf(sweepId: string): string[] {
    return this.store
      .all<{ task_id: string }>('SELECT t.task_id FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id WHERE st.sweep_id = ? ORDER BY t.seq', sweepId)
      .map((r) => r.task_id);
  }

  /** States known to the machine (for metrics labels). */
  static readonly states = TASK_STATES;
}

function toEvent(r: EventRow): SweepEvent {
  return {
    sequence: r.seq,
    timeMs: r.time_ms,
    sweepId: r.sweep_id,
    taskId: r.task_id,
    type: r.type as EventType,
    payload: JSON.parse(r.payload_json) as Record<string, unknown>,
  };
}

/** The spec as it travels in a lease: the worker fills gatesFrom from the downloaded checkpoint. */
function specWithoutGates(spec: ExpandedTask['spec']): Omit<ExpandedTask['spec'], 'gatesFrom'> {
  const { gatesFrom: _g, ...rest } = spec;
  return rest;
}
