/** SQL of `sweeps` and `sweep_tasks` (which tasks belong to which sweep), and the read models over them. */
import type { Db } from './db.js';
import type { SweepRow, TaskRow } from './rows.js';
import type { TaskState } from '../task-state.js';

const TERMINAL = "('succeeded','failed','cancelled')";

/** A sweep row about to be inserted. */
export interface NewSweepRow {
  sweepId: string;
  name: string;
  fileName: string;
  specYaml: string;
  overridesJson: string;
  createdAtMs: number;
  cellsTotal: number;
  aggregationJson: string;
}

/** A task of a sweep with its key and stored result (for the results module). */
export type OutcomeRow = TaskRow & { key_json: string; spec_json: string; result_json: string | null; result_status: string | null };

export class SweepTable {
  constructor(private readonly db: Db) {}

  byId(sweepId: string): SweepRow | undefined {
    return this.db.get<SweepRow>('SELECT * FROM sweeps WHERE sweep_id = ?', sweepId);
  }

  /** Every sweep, newest first. */
  list(): SweepRow[] {
    return this.db.all<SweepRow>('SELECT * FROM sweeps ORDER BY created_at_ms DESC, rowid DESC');
  }

  /** A new sweep, 'running', with no open tasks counted yet. */
  insert(s: NewSweepRow): void {
    this.db.run(
      "INSERT INTO sweeps (sweep_id, name, file_name, spec_yaml, overrides_json, state, created_at_ms, cells_total, open_tasks, aggregation_json) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, 0, ?)",
      s.sweepId,
      s.name,
      s.fileName,
      s.specYaml,
      s.overridesJson,
      s.createdAtMs,
      s.cellsTotal,
      s.aggregationJson,
    );
  }

  setState(sweepId: string, state: string): void {
    this.db.run('UPDATE sweeps SET state = ? WHERE sweep_id = ?', state, sweepId);
  }

  /** Move a sweep from `from` to `to`; nothing when it is in another state. */
  setStateIf(sweepId: string, from: string, to: string): void {
    this.db.run('UPDATE sweeps SET state = ? WHERE sweep_id = ? AND state = ?', to, sweepId, from);
  }

  /** Add `delta` to the sweep's count of open tasks; returns the new count. */
  addOpenTasks(sweepId: string, delta: number): number | undefined {
    return this.db.get<{ open_tasks: number }>('UPDATE sweeps SET open_tasks = open_tasks + ? WHERE sweep_id = ? RETURNING open_tasks', delta, sweepId)
      ?.open_tasks;
  }

  /**
   * Link a task to a sweep with the key (labels) this sweep gives it; false when it already was
   * linked (its key is then updated: a resubmission's labels are the latest).
   */
  link(sweepId: string, taskId: string, keyJson: string): boolean {
    if (this.db.run('INSERT OR IGNORE INTO sweep_tasks (sweep_id, task_id, key_json) VALUES (?, ?, ?)', sweepId, taskId, keyJson).changes === 1) return true;
    this.db.run('UPDATE sweep_tasks SET key_json = ? WHERE sweep_id = ? AND task_id = ?', keyJson, sweepId, taskId);
    return false;
  }

  /** Sweeps a task belongs to. */
  sweepsOfTask(taskId: string): string[] {
    return this.db.all<{ sweep_id: string }>('SELECT sweep_id FROM sweep_tasks WHERE task_id = ?', taskId).map((r) => r.sweep_id);
  }

  /** Whether the task also belongs to another sweep that is still running. */
  sharedWithOtherRunning(taskId: string, sweepId: string): boolean {
    return (
      this.db.get(
        "SELECT 1 FROM sweep_tasks st JOIN sweeps s ON s.sweep_id = st.sweep_id WHERE st.task_id = ? AND st.sweep_id <> ? AND s.state = 'running'",
        taskId,
        sweepId,
      ) !== undefined
    );
  }

  /** The sweep's tasks not yet in a terminal state, oldest first. */
  openTasks(sweepId: string): TaskRow[] {
    return this.db.all<TaskRow>(
      `SELECT t.* FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id
        WHERE st.sweep_id = ? AND t.state NOT IN ${TERMINAL} ORDER BY t.seq`,
      sweepId,
    );
  }

  /** How many of the sweep's tasks failed for good. */
  failedTasks(sweepId: string): number {
    return this.db.get<{ n: number }>(
      "SELECT count(*) AS n FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id WHERE st.sweep_id = ? AND t.state = 'failed'",
      sweepId,
    )!.n;
  }

  /** How many of the sweep's tasks are in each state (states with none are absent). */
  countByState(sweepId: string): Array<{ state: TaskState; n: number }> {
    return this.db.all<{ state: TaskState; n: number }>(
      'SELECT t.state AS state, count(*) AS n FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id WHERE st.sweep_id = ? GROUP BY t.state',
      sweepId,
    );
  }

  /** Table cells of the sweep whose every trial succeeded. */
  cellsComplete(sweepId: string): number {
    return this.db.get<{ n: number }>(
      `SELECT count(*) AS n FROM (SELECT t.cell_key FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id
        WHERE st.sweep_id = ? GROUP BY t.cell_key HAVING sum(t.state <> 'succeeded') = 0)`,
      sweepId,
    )!.n;
  }

  /** Every task of the sweep with its key and result, in submission order. */
  outcomes(sweepId: string): OutcomeRow[] {
    return this.db.all<OutcomeRow>(
      `SELECT t.*, COALESCE(st.key_json, d.key_json) AS key_json, d.spec_json AS spec_json, r.result_json AS result_json, r.status AS result_status FROM sweep_tasks st
        JOIN tasks t ON t.task_id = st.task_id JOIN task_docs d ON d.task_id = t.task_id LEFT JOIN results r ON r.task_id = t.task_id
        WHERE st.sweep_id = ? ORDER BY t.seq`,
      sweepId,
    );
  }

  /** Ids of the sweep's tasks in submission order. */
  taskIds(sweepId: string): string[] {
    return this.db
      .all<{ task_id: string }>('SELECT t.task_id FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id WHERE st.sweep_id = ? ORDER BY t.seq', sweepId)
      .map((r) => r.task_id);
  }
}
