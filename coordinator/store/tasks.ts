/**
 * SQL of the `tasks` table (hot, small rows) and `task_docs` (the JSON documents of a task).
 * Hot-path reads return narrow raw rows (arrays, no per-row objects) and the ready-queue LIMIT
 * is a literal: see `readyCandidates`.
 */
import type { Db } from './db.js';
import { TASK_COLUMNS, type TaskRow } from './rows.js';
import type { TaskState } from '../task-state.js';

/** What a new task row holds (its documents go to task_docs). */
export interface NewTaskRow {
  taskId: string;
  cellKey: string;
  regime: string;
  parent?: { taskId: string; checkpoint: string };
  cpu: number;
  gpu: number;
  memoryMb: number;
  priority: number;
  state: TaskState;
  keyJson: string;
  specJson: string;
  /** Which ready tasks it may share a stack with (undefined: it never joins a bundle). */
  fusion?: { key: string; max: number };
}

/** Columns a state change may write besides state and updated_at_ms. */
export type TaskFields = Partial<Omit<TaskRow, 'task_id' | 'seq' | 'state'>>;

/** One ready task as the scheduler sees it: [seq, task_id, cpu, gpu, memory_mb, priority, has_dependants]. */
export type ReadyRow = [number, string, number, number, number, number, number];

const HELD = "lease_worker = ? AND state IN ('leased','running')";
/** One row per process a worker runs: a bundle's members share their leader's allocation. */
const HELD_PER_PROCESS = `SELECT max(cpu) AS cpu, max(gpu) AS gpu, max(memory_mb) AS memory_mb, min(gpu_indices) AS gpu_indices FROM tasks WHERE ${HELD} GROUP BY coalesce(bundle_id, task_id)`;

export class TaskTable {
  constructor(private readonly db: Db) {}

  byId(taskId: string): TaskRow | undefined {
    return this.db.get<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE task_id = ?`, taskId);
  }

  exists(taskId: string): boolean {
    return this.db.get('SELECT 1 FROM tasks WHERE task_id = ?', taskId) !== undefined;
  }

  insert(t: NewTaskRow, now: number): void {
    this.db.run('INSERT INTO task_docs (task_id, key_json, spec_json) VALUES (?, ?, ?)', t.taskId, t.keyJson, t.specJson);
    this.db.run(
      `INSERT INTO tasks (task_id, cell_key, regime, parent_task_id, parent_checkpoint, cpu, gpu, memory_mb, priority, state, updated_at_ms, fusion_key, fuse_max)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      t.taskId,
      t.cellKey,
      t.regime,
      t.parent?.taskId ?? null,
      t.parent?.checkpoint ?? null,
      t.cpu,
      t.gpu,
      t.memoryMb,
      t.priority,
      t.state,
      now,
      t.fusion?.key ?? null,
      t.fusion?.max ?? 0,
    );
  }

  /** A resubmitted task takes the fusion setting of its latest sweep. */
  setFusion(taskId: string, fusion: { key: string; max: number } | undefined): void {
    this.db.run('UPDATE tasks SET fusion_key = ?, fuse_max = ? WHERE task_id = ?', fusion?.key ?? null, fusion?.max ?? 0, taskId);
  }

  /** Write a state change (already checked against the transition table) and `fields` with it. */
  update(taskId: string, state: TaskState, now: number, fields: TaskFields): void {
    const cols = Object.keys(fields) as Array<keyof TaskFields>;
    const sets = ['state = ?', 'updated_at_ms = ?', ...cols.map((c) => `${c} = ?`)].join(', ');
    this.db.run(`UPDATE tasks SET ${sets} WHERE task_id = ?`, state, now, ...cols.map((c) => fields[c]), taskId);
  }

  markHasDependants(taskId: string): void {
    this.db.run('UPDATE tasks SET has_dependants = 1 WHERE task_id = ?', taskId);
  }

  renewLease(taskId: string, expiresMs: number): void {
    this.db.run('UPDATE tasks SET lease_expires_ms = ? WHERE task_id = ?', expiresMs, taskId);
  }

  /** Blocked tasks waiting on `parentId`, oldest first. */
  blockedChildren(parentId: string): TaskRow[] {
    return this.db.all<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE parent_task_id = ? AND state = 'blocked' ORDER BY seq`, parentId);
  }

  /** The TrialSpec JSON of a task, as stored at submission. */
  specJson(taskId: string): string {
    return this.db.get<{ spec_json: string }>('SELECT spec_json FROM task_docs WHERE task_id = ?', taskId)!.spec_json;
  }

  /** The trial's epoch count (TrialSpec.epochs), for progress events; undefined when the spec has none. */
  epochsOf(taskId: string): number | undefined {
    const r = this.db.get<{ epochs: unknown }>("SELECT json_extract(spec_json, '$.epochs') AS epochs FROM task_docs WHERE task_id = ?", taskId);
    return typeof r?.epochs === 'number' ? r.epochs : undefined;
  }

  /** What a worker holds, one raw row per process (a bundle counts once): [cpu, gpu, memory_mb, gpu_indices JSON]. */
  heldByWorker(workerId: string): Array<[number, number, number, string]> {
    return this.db.raw<[number, number, number, string]>(`SELECT cpu, gpu, memory_mb, gpu_indices FROM (${HELD_PER_PROCESS})`, workerId);
  }

  /** What a worker holds, pooled in one raw row: [processes, total cpu, total memory_mb] (a bundle counts once). */
  heldByWorkerPooled(workerId: string): [number, number, number] {
    return this.db.raw<[number, number, number]>(`SELECT count(*), total(cpu), total(memory_mb) FROM (${HELD_PER_PROCESS})`, workerId)[0];
  }

  /**
   * Ready first-attempt tasks with fusion key `key`, in the ready order, for a bundle: at most
   * `limit` ids. Retried tasks (attempt > 0) are left out: they run alone.
   */
  readyBundleMates(key: string, now: number, limit: number): string[] {
    return this.db
      .raw<[string]>(
        `SELECT task_id FROM tasks WHERE state = 'pending' AND fusion_key = ? AND attempt = 0 AND not_before_ms <= ?
           ORDER BY priority DESC, has_dependants DESC, seq LIMIT ${Math.trunc(limit)}`,
        key,
        now,
      )
      .map(([id]) => id);
  }

  /** Bundles among a sweep's held tasks: [bundles, member tasks]. */
  bundlesOfSweep(sweepId: string): [number, number] {
    return this.db.raw<[number, number]>(
      `SELECT count(DISTINCT t.bundle_id), count(t.bundle_id) FROM sweep_tasks s JOIN tasks t ON t.task_id = s.task_id
         WHERE s.sweep_id = ? AND t.state IN ('leased','running') AND t.bundle_id IS NOT NULL`,
      sweepId,
    )[0];
  }

  /**
   * Ready tasks that fit the free resources, in the ready index's order. LIMIT is a literal (an
   * integer, so few distinct statements): with a bound `LIMIT ?` SQLite spends ~20 us more per
   * call here (measured), a third of a lease.
   */
  readyCandidates(now: number, freeCpu: number, freeMemoryMb: number, gpu: number, limit: number): ReadyRow[] {
    return this.db.raw<ReadyRow>(
      `SELECT seq, task_id, cpu, gpu, memory_mb, priority, has_dependants FROM tasks
         WHERE state = 'pending' AND not_before_ms <= ? AND cpu <= ? AND memory_mb <= ? AND gpu <= ?
         ORDER BY priority DESC, has_dependants DESC, seq LIMIT ${Math.trunc(limit)}`,
      now,
      freeCpu,
      freeMemoryMb,
      gpu,
    );
  }

  /** The earliest end of a retry backoff after `now` among pending tasks, or null. */
  earliestBackoffEnd(now: number): number | null {
    return this.db.get<{ t: number | null }>("SELECT min(not_before_ms) AS t FROM tasks WHERE state = 'pending' AND not_before_ms > ?", now)?.t ?? null;
  }

  /** Whether any lease expired at `now` (a read, so the expiry timer opens no write for nothing). */
  anyLeaseExpired(now: number): boolean {
    return (
      this.db.get("SELECT 1 FROM tasks WHERE state IN ('leased','running') AND lease_expires_ms IS NOT NULL AND lease_expires_ms <= ? LIMIT 1", now) !==
      undefined
    );
  }

  expiredLeases(now: number): TaskRow[] {
    return this.db.all<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM tasks WHERE state IN ('leased','running') AND lease_expires_ms IS NOT NULL AND lease_expires_ms <= ? ORDER BY seq`,
      now,
    );
  }

  /** Every task someone holds a lease on, oldest first. */
  leased(): TaskRow[] {
    return this.db.all<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE state IN ('leased','running') ORDER BY seq`);
  }

  /** Resources held by leases, summed (a bundle's members share one allocation). */
  usedResources(): { cpu: number; gpu: number; memoryMb: number } {
    const r = this.db.get<{ cpu: number | null; gpu: number | null; mem: number | null }>(
      `SELECT sum(cpu) AS cpu, sum(gpu) AS gpu, sum(memory_mb) AS mem FROM (SELECT max(cpu) AS cpu, max(gpu) AS gpu, max(memory_mb) AS memory_mb
         FROM tasks WHERE state IN ('leased','running') GROUP BY coalesce(bundle_id, task_id))`,
    )!;
    return { cpu: r.cpu ?? 0, gpu: r.gpu ?? 0, memoryMb: r.mem ?? 0 };
  }

  /** How many tasks are in each state (states with none are absent). */
  countByState(): Array<{ state: TaskState; n: number }> {
    return this.db.all<{ state: TaskState; n: number }>('SELECT state, count(*) AS n FROM tasks GROUP BY state');
  }
}
