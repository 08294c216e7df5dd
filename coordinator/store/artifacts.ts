/** SQL of `artifacts`: which task attempt uploaded which named file (the bytes live in ArtifactStore). */
import type { Db } from './db.js';
import type { ArtifactRow } from './rows.js';

export class ArtifactTable {
  constructor(private readonly db: Db) {}

  get(taskId: string, name: string): ArtifactRow | undefined {
    return this.db.get<ArtifactRow>('SELECT * FROM artifacts WHERE task_id = ? AND name = ?', taskId, name);
  }

  /** A task's artifacts by name. */
  ofTask(taskId: string): ArtifactRow[] {
    return this.db.all<ArtifactRow>('SELECT * FROM artifacts WHERE task_id = ? ORDER BY name', taskId);
  }

  /** Forget one named artifact of a task (its bytes stay in the content store). */
  remove(taskId: string, name: string): void {
    this.db.run('DELETE FROM artifacts WHERE task_id = ? AND name = ?', taskId, name);
  }

  /**
   * Bytes of the artifacts recorded for the tasks of a sweep, leaving out the one named
   * (`except`: the artifact an upload is about to replace).
   */
  bytesOfSweep(sweepId: string, except: { taskId: string; name: string }): number {
    return (
      this.db.get<{ n: number }>(
        'SELECT COALESCE(SUM(a.size), 0) AS n FROM sweep_tasks st JOIN artifacts a ON a.task_id = st.task_id WHERE st.sweep_id = ? AND NOT (a.task_id = ? AND a.name = ?)',
        sweepId,
        except.taskId,
        except.name,
      )?.n ?? 0
    );
  }

  record(a: Omit<ArtifactRow, 'created_at_ms'>, now: number): void {
    this.db.run(
      'INSERT OR REPLACE INTO artifacts (task_id, name, attempt, sha256, size, epoch, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
      a.task_id,
      a.name,
      a.attempt,
      a.sha256,
      a.size,
      a.epoch,
      now,
    );
  }
}
