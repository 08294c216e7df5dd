/** SQL of `attempts` (finished attempts of a task) and `progress` (epoch records of an attempt). */
import type { Db } from './db.js';

/**
 * How an attempt ended: 'interrupted' is an attempt stopped from outside (drain, stop, a released
 * lease), which does not count against the task's attempts.
 */
export type AttemptOutcome = 'succeeded' | 'failed' | 'expired' | 'cancelled' | 'interrupted';

export interface AttemptRecord {
  taskId: string;
  attempt: number;
  workerId: string;
  startedAtMs: number;
  endedAtMs: number;
  outcome: AttemptOutcome;
  error: string | null;
}

export class AttemptTable {
  constructor(private readonly db: Db) {}

  record(a: AttemptRecord): void {
    this.db.run(
      'INSERT OR REPLACE INTO attempts (task_id, attempt, worker_id, started_at_ms, ended_at_ms, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?)',
      a.taskId,
      a.attempt,
      a.workerId,
      a.startedAtMs,
      a.endedAtMs,
      a.outcome,
      a.error,
    );
  }

  /** Finished attempts of a task, oldest first. */
  ofTask(taskId: string): Array<{ attempt: number; worker_id: string; outcome: string; error: string | null }> {
    return this.db.all('SELECT attempt, worker_id, outcome, error FROM attempts WHERE task_id = ? ORDER BY attempt', taskId);
  }

  /** The worker a finished attempt ran on, if it is recorded. */
  workerOf(taskId: string, attempt: number): string | undefined {
    return this.db.get<{ worker_id: string }>('SELECT worker_id FROM attempts WHERE task_id = ? AND attempt = ?', taskId, attempt)?.worker_id;
  }

  /** One epoch record of an attempt; false when that epoch of the attempt was already recorded (a repeated report is ignored). */
  recordProgress(taskId: string, attempt: number, epoch: number, recordJson: string): boolean {
    return (
      this.db.run('INSERT INTO progress (task_id, attempt, epoch, record_json) VALUES (?, ?, ?, ?) ON CONFLICT (task_id, attempt, epoch) DO NOTHING', taskId, attempt, epoch, recordJson)
        .changes === 1
    );
  }
}
