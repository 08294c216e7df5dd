/** SQL of `results`: the TrialResult of each succeeded task, as the worker sent it. */
import type { Db } from './db.js';
import type { ResultRow } from './rows.js';

export class ResultTable {
  constructor(private readonly db: Db) {}

  byTask(taskId: string): ResultRow | undefined {
    return this.db.get<ResultRow>('SELECT * FROM results WHERE task_id = ?', taskId);
  }

  /** The attempt whose result is recorded, if any. */
  attemptOf(taskId: string): number | undefined {
    return this.db.get<{ attempt: number }>('SELECT attempt FROM results WHERE task_id = ?', taskId)?.attempt;
  }

  record(taskId: string, attempt: number, status: string, resultJson: string, completedAtMs: number): void {
    this.db.run(
      'INSERT OR REPLACE INTO results (task_id, attempt, status, result_json, completed_at_ms) VALUES (?, ?, ?, ?, ?)',
      taskId,
      attempt,
      status,
      resultJson,
      completedAtMs,
    );
  }
}
