/**
 * SQL of housekeeping: pruning history the coordinator no longer needs (retention of progress
 * rows and progress events), deleting whole sweeps and the tasks no sweep references any more,
 * and listing the artifact hashes still referenced (for `npf gc`). Callers run these inside one
 * write (Db.write) or with the store held alone (`npf gc` holds the single-writer lock).
 */
import type { Db } from './db.js';

const TERMINAL = "('succeeded','failed','cancelled')";

/** Tasks finished before the cutoff (the one parameter) that belong to no running sweep. */
const FINISHED_TASKS = `SELECT t.task_id FROM tasks t WHERE t.state IN ${TERMINAL} AND t.updated_at_ms < ?
  AND NOT EXISTS (SELECT 1 FROM sweep_tasks st JOIN sweeps s ON s.sweep_id = st.sweep_id WHERE st.task_id = t.task_id AND s.state = 'running')`;

/** Workers last seen before the cutoff (the one parameter) that hold no lease. */
const GONE_WORKERS = 'last_seen_ms < ? AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.lease_worker = workers.worker_id)';

/** The last activity of a sweep: its newest event, or its creation when it has none. */
const LAST_ACTIVITY = 'COALESCE((SELECT e.time_ms FROM events e WHERE e.sweep_id = s.sweep_id ORDER BY e.seq DESC LIMIT 1), s.created_at_ms)';

export class HousekeepingSql {
  constructor(private readonly db: Db) {}

  /** Sweeps not running, with progress events left, whose last activity is before `cutoffMs`. */
  finishedBefore(cutoffMs: number): string[] {
    return this.db
      .all<{ sweep_id: string }>(
        `SELECT s.sweep_id FROM sweeps s WHERE s.state <> 'running' AND ${LAST_ACTIVITY} < ?
           AND EXISTS (SELECT 1 FROM events e WHERE e.sweep_id = s.sweep_id AND e.type = 'task.progress')`,
        cutoffMs,
      )
      .map((r) => r.sweep_id);
  }

  /**
   * Delete a sweep's 'task.progress' events (one per epoch of every trial: the bulk of the log;
   * the curves stay in the results). The newest event of the whole log is kept so that seq (the
   * rowid) is never handed out again. Returns how many were deleted.
   */
  deleteProgressEvents(sweepId: string): number {
    return this.db.run("DELETE FROM events WHERE sweep_id = ? AND type = 'task.progress' AND seq < (SELECT MAX(seq) FROM events)", sweepId).changes;
  }

  /**
   * Delete the progress rows (epoch records) of tasks that finished before `cutoffMs` and belong
   * to no running sweep. Returns how many were deleted.
   */
  deleteFinishedProgress(cutoffMs: number): number {
    return this.db.run(`DELETE FROM progress WHERE task_id IN (${FINISHED_TASKS})`, cutoffMs).changes;
  }

  /** Whether `deleteFinishedProgress(cutoffMs)` would delete anything (a read: no write opened for nothing). */
  hasFinishedProgress(cutoffMs: number): boolean {
    return !!this.db.get(`SELECT 1 FROM progress WHERE task_id IN (${FINISHED_TASKS}) LIMIT 1`, cutoffMs);
  }

  /**
   * Delete the workers not seen since `cutoffMs` that hold no lease (a worker that comes back
   * is told it is unknown and registers again). Returns how many were deleted.
   */
  deleteGoneWorkers(cutoffMs: number): number {
    return this.db.run(`DELETE FROM workers WHERE ${GONE_WORKERS}`, cutoffMs).changes;
  }

  /** Whether `deleteGoneWorkers(cutoffMs)` would delete anything. */
  hasGoneWorkers(cutoffMs: number): boolean {
    return !!this.db.get(`SELECT 1 FROM workers WHERE ${GONE_WORKERS} LIMIT 1`, cutoffMs);
  }

  /** Delete a sweep, its links to tasks and its events (the tasks themselves: `deleteOrphanTasks`). */
  deleteSweep(sweepId: string): { events: number } {
    const events = this.db.run('DELETE FROM events WHERE sweep_id = ? AND seq < (SELECT MAX(seq) FROM events)', sweepId).changes;
    this.db.run('DELETE FROM sweep_tasks WHERE sweep_id = ?', sweepId);
    this.db.run('DELETE FROM sweeps WHERE sweep_id = ?', sweepId);
    return { events };
  }

  /**
   * Delete the tasks no sweep references (with their documents, attempts, progress, results and
   * artifact records), except a parent of a task that stays. Returns how many tasks were deleted.
   */
  deleteOrphanTasks(): number {
    const orphan = `SELECT t.task_id FROM tasks t
      WHERE NOT EXISTS (SELECT 1 FROM sweep_tasks st WHERE st.task_id = t.task_id)
        AND NOT EXISTS (SELECT 1 FROM tasks c JOIN sweep_tasks cs ON cs.task_id = c.task_id WHERE c.parent_task_id = t.task_id)`;
    const ids = this.db.all<{ task_id: string }>(orphan).map((r) => r.task_id);
    for (const id of ids) {
      for (const table of ['task_docs', 'attempts', 'progress', 'results', 'artifacts']) this.db.run(`DELETE FROM ${table} WHERE task_id = ?`, id);
      this.db.run('DELETE FROM tasks WHERE task_id = ?', id);
    }
    return ids.length;
  }

  /** Every artifact hash an artifact record still names. */
  referencedArtifacts(): Set<string> {
    return new Set(this.db.all<{ sha256: string }>('SELECT DISTINCT sha256 FROM artifacts').map((r) => r.sha256));
  }
}
