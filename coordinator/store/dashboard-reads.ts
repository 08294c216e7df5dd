/**
 * Every SQL query of the web dashboard, over a READ-ONLY connection of its own to the
 * coordinator's SQLite file (npf.db). In WAL mode a reader runs beside the writer without
 * blocking it and sees each group commit whole, so `npf ui` can show a store that `npf run` or a
 * coordinator is writing, and the dashboard inside a coordinator never touches the coordinator's
 * own connection or its open group-commit transaction.
 *
 * Rows come back as stored (snake_case, JSON text); dashboard/data-source.ts turns them into
 * the dashboard's records. Nothing here writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { TaskState } from '../task-state.js';
import { StoreError } from './db.js';
import { SCHEMA_VERSION } from './migrations.js';
import type { ArtifactRow, EventRow, SweepRow } from './rows.js';

/** A sweep without its spec text. */
export type SweepListRow = Pick<SweepRow, 'sweep_id' | 'name' | 'file_name' | 'state' | 'created_at_ms' | 'cells_total' | 'open_tasks'>;

/** Where one trial of a sweep stands (the small, changing columns). */
export interface TaskStateRow {
  seq: number;
  task_id: string;
  state: TaskState;
  attempt: number;
  lease_worker: string | null;
  /** Worker of the newest finished attempt. */
  last_worker: string | null;
  error: string | null;
  parent_task_id: string | null;
}

/** The documents of a trial that never change: its key and its number of epochs. */
export interface TaskDocRow {
  task_id: string;
  key_json: string;
  epochs: number | null;
}

/** A stored result; rowid grows with every (re)write, so it is a watermark for what is new. */
export interface ResultRowWithId {
  rowid: number;
  task_id: string;
  attempt: number;
  status: string;
  result_json: string;
}

/** One epoch of progress of a trial's current attempt (leased or running trials). */
export interface LiveEpochRow {
  task_id: string;
  epoch: number;
  test_accuracy: number | null;
}

/** A task row with its documents and result, for the trial page. */
export interface TrialRow {
  seq: number;
  task_id: string;
  key_json: string;
  spec_json: string;
  state: TaskState;
  attempt: number;
  tries: number;
  lease_worker: string | null;
  leased_at_ms: number | null;
  not_before_ms: number;
  parent_task_id: string | null;
  parent_checkpoint: string | null;
  error: string | null;
  updated_at_ms: number;
  result_json: string | null;
  result_status: string | null;
  result_attempt: number | null;
  completed_at_ms: number | null;
}

export interface ProgressRow {
  attempt: number;
  epoch: number;
  record_json: string;
}

export interface AttemptRow {
  attempt: number;
  worker_id: string;
  started_at_ms: number;
  ended_at_ms: number | null;
  outcome: string | null;
  error: string | null;
}

/** Another trial linked to this one (its parent or a dependant). */
export interface LinkedTrialRow {
  task_id: string;
  key_json: string;
  state: TaskState;
  parent_checkpoint: string | null;
}

export interface EventQuery {
  sweepId?: string;
  /** Only events with seq > afterSeq. */
  afterSeq?: number;
  /** Only events with seq < beforeSeq. */
  beforeSeq?: number;
  /** Event types (events/event-schema.ts). */
  types?: readonly string[];
  taskId?: string;
  /** Newest first (paging back through a log) instead of oldest first. */
  newestFirst?: boolean;
  limit: number;
}

type Stmt = Database.Statement<unknown[], unknown>;

/** Read-only queries of the dashboard over `<dataDir>/npf.db`. */
export class DashboardReads {
  private readonly db: Database.Database;
  private readonly stmts = new Map<string, Stmt>();
  readonly file: string;

  /** Opens `<dataDir>/npf.db` read-only; throws StoreError when it is missing or of another schema version. */
  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'npf.db');
    if (!fs.existsSync(this.file)) {
      throw new StoreError(`no npf store at ${this.file}: start \`npf run\` or \`npf coordinator\` with this --data-dir first`, { file: this.file });
    }
    try {
      this.db = new Database(this.file, { readonly: true, fileMustExist: true });
      this.db.pragma('busy_timeout = 5000');
    } catch (e) {
      throw new StoreError(`cannot open ${this.file} read-only: ${(e as Error).message}`, { file: this.file }, { cause: e });
    }
    let version: number | undefined;
    try {
      version = (this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined)?.version;
    } catch {
      version = undefined;
    }
    if (version !== SCHEMA_VERSION) {
      this.db.close();
      const why =
        version === undefined
          ? 'it has no schema version (is it an npf store?)'
          : version > SCHEMA_VERSION
            ? `its schema version ${version} is newer than this npf-sweep's ${SCHEMA_VERSION}: upgrade npf-sweep`
            : `its schema version ${version} is older than ${SCHEMA_VERSION}: start \`npf coordinator\` or \`npf run\` on it once to upgrade it`;
      throw new StoreError(`cannot show ${this.file}: ${why}`, { file: this.file, version });
    }
  }

  private stmt(sql: string): Stmt {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private all<T>(sql: string, ...params: unknown[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  private get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  /** Highest event sequence number (0 when none): it moves whenever anything the dashboard shows changes. */
  lastEventSeq(): number {
    return this.get<{ n: number }>('SELECT coalesce(max(seq), 0) AS n FROM events')!.n;
  }

  sweeps(): SweepListRow[] {
    return this.all<SweepListRow>(
      'SELECT sweep_id, name, file_name, state, created_at_ms, cells_total, open_tasks FROM sweeps ORDER BY created_at_ms DESC, rowid DESC',
    );
  }

  sweep(sweepId: string): SweepRow | undefined {
    return this.get<SweepRow>('SELECT * FROM sweeps WHERE sweep_id = ?', sweepId);
  }

  counts(sweepId: string): Array<{ state: TaskState; n: number }> {
    return this.all(
      'SELECT t.state AS state, count(*) AS n FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id WHERE st.sweep_id = ? GROUP BY t.state',
      sweepId,
    );
  }

  /** Time of the sweep's newest event (null without one). */
  lastEventTime(sweepId: string): number | null {
    return this.get<{ t: number }>('SELECT time_ms AS t FROM events WHERE sweep_id = ? ORDER BY seq DESC LIMIT 1', sweepId)?.t ?? null;
  }

  /** Wall time (ms) of each succeeded attempt of the sweep's trials. */
  succeededDurations(sweepId: string): number[] {
    return this.all<{ ms: number }>(
      `SELECT a.ended_at_ms - a.started_at_ms AS ms FROM sweep_tasks st JOIN attempts a ON a.task_id = st.task_id
        WHERE st.sweep_id = ? AND a.outcome = 'succeeded' AND a.ended_at_ms IS NOT NULL`,
      sweepId,
    ).map((r) => r.ms);
  }

  /** Every trial of a sweep and where it stands, in submission order. */
  taskStates(sweepId: string): TaskStateRow[] {
    return this.all<TaskStateRow>(
      `SELECT t.seq, t.task_id, t.state, t.attempt, t.lease_worker, t.error, t.parent_task_id,
          (SELECT a.worker_id FROM attempts a WHERE a.task_id = t.task_id ORDER BY a.attempt DESC LIMIT 1) AS last_worker
        FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id
        WHERE st.sweep_id = ? ORDER BY t.seq`,
      sweepId,
    );
  }

  /** Keys and epoch totals of a sweep's trials. */
  taskDocs(sweepId: string): TaskDocRow[] {
    return this.all<TaskDocRow>(
      `SELECT d.task_id, COALESCE(st.key_json, d.key_json) AS key_json, json_extract(d.spec_json, '$.epochs') AS epochs
        FROM sweep_tasks st JOIN task_docs d ON d.task_id = st.task_id WHERE st.sweep_id = ?`,
      sweepId,
    );
  }

  /** Results written after `rowid` (all sweeps), oldest first, at most `limit`. */
  resultsAfter(rowid: number, limit: number): ResultRowWithId[] {
    return this.all<ResultRowWithId>(
      `SELECT rowid, task_id, attempt, status, result_json FROM results WHERE rowid > ? ORDER BY rowid LIMIT ${Math.max(1, Math.trunc(limit))}`,
      rowid,
    );
  }

  /** Progress of the current attempt of the sweep's leased and running trials, by epoch. */
  liveEpochs(sweepId: string): LiveEpochRow[] {
    return this.all<LiveEpochRow>(
      `SELECT p.task_id, p.epoch, json_extract(p.record_json, '$.testAccuracy') AS test_accuracy
        FROM sweep_tasks st JOIN tasks t ON t.task_id = st.task_id
        JOIN progress p ON p.task_id = t.task_id AND p.attempt = t.attempt
        WHERE st.sweep_id = ? AND t.state IN ('leased', 'running') ORDER BY p.task_id, p.epoch`,
      sweepId,
    );
  }

  trial(taskId: string): TrialRow | undefined {
    return this.get<TrialRow>(
      `SELECT t.seq, t.task_id, d.key_json, d.spec_json, t.state, t.attempt, t.tries, t.lease_worker, t.leased_at_ms, t.not_before_ms,
          t.parent_task_id, t.parent_checkpoint, t.error, t.updated_at_ms,
          r.result_json, r.status AS result_status, r.attempt AS result_attempt, r.completed_at_ms
        FROM tasks t JOIN task_docs d ON d.task_id = t.task_id LEFT JOIN results r ON r.task_id = t.task_id
        WHERE t.task_id = ?`,
      taskId,
    );
  }

  progress(taskId: string): ProgressRow[] {
    return this.all<ProgressRow>('SELECT attempt, epoch, record_json FROM progress WHERE task_id = ? ORDER BY attempt, epoch', taskId);
  }

  attempts(taskId: string): AttemptRow[] {
    return this.all<AttemptRow>(
      'SELECT attempt, worker_id, started_at_ms, ended_at_ms, outcome, error FROM attempts WHERE task_id = ? ORDER BY attempt',
      taskId,
    );
  }

  artifacts(taskId: string): ArtifactRow[] {
    return this.all<ArtifactRow>('SELECT * FROM artifacts WHERE task_id = ? ORDER BY name', taskId);
  }

  artifact(taskId: string, name: string): ArtifactRow | undefined {
    return this.get<ArtifactRow>('SELECT * FROM artifacts WHERE task_id = ? AND name = ?', taskId, name);
  }

  linkedTrial(taskId: string): LinkedTrialRow | undefined {
    return this.get<LinkedTrialRow>(
      'SELECT t.task_id, d.key_json, t.state, t.parent_checkpoint FROM tasks t JOIN task_docs d ON d.task_id = t.task_id WHERE t.task_id = ?',
      taskId,
    );
  }

  /** The trials whose gates come from `taskId`'s checkpoints. */
  dependants(taskId: string): LinkedTrialRow[] {
    return this.all<LinkedTrialRow>(
      `SELECT t.task_id, d.key_json, t.state, t.parent_checkpoint FROM tasks t JOIN task_docs d ON d.task_id = t.task_id
        WHERE t.parent_task_id = ? ORDER BY t.seq`,
      taskId,
    );
  }

  sweepsOfTask(taskId: string): Array<{ sweep_id: string; name: string }> {
    return this.all(
      'SELECT s.sweep_id, s.name FROM sweep_tasks st JOIN sweeps s ON s.sweep_id = st.sweep_id WHERE st.task_id = ? ORDER BY s.created_at_ms',
      taskId,
    );
  }

  /** Stored events matching `q` (typed events of events/event-schema.ts, payload as JSON). */
  events(q: EventQuery): EventRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.sweepId !== undefined) {
      where.push('e.sweep_id = ?');
      params.push(q.sweepId);
    }
    if (q.afterSeq !== undefined) {
      where.push('e.seq > ?');
      params.push(q.afterSeq);
    }
    if (q.beforeSeq !== undefined) {
      where.push('e.seq < ?');
      params.push(q.beforeSeq);
    }
    if (q.types && q.types.length > 0) {
      where.push(`e.type IN (${q.types.map(() => '?').join(', ')})`);
      params.push(...q.types);
    }
    if (q.taskId !== undefined) {
      where.push('e.task_id = ?');
      params.push(q.taskId);
    }
    const sql = `SELECT e.seq, e.time_ms, e.sweep_id, e.task_id, e.type, e.payload_json FROM events e
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.seq ${q.newestFirst ? 'DESC' : 'ASC'} LIMIT ${Math.max(1, Math.trunc(q.limit))}`;
    return this.all<EventRow>(sql, ...params);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
