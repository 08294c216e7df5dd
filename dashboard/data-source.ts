/**
 * The dashboard's ONE door to data: a small read-only interface, and its implementation over the
 * coordinator's store (coordinator/store/dashboard-reads.ts holds every SQL query). The views,
 * the HTTP handler and the live event stream see only these records, never SQL or store rows.
 */
import type { EpochRecord, TrialResult, TrialSpec } from '../science/types.js';
import type { NpfEvent, EventType } from '../events/event-schema.js';
import { EVENT_SCHEMA_VERSION } from '../events/event-schema.js';
import type { SweepAggregation } from '../coordinator/core/types.js';
import type { TrialKey, TrialOutcome } from '../coordinator/sweep-types.js';
import { TASK_STATES, type TaskState } from '../coordinator/task-state.js';
import { DashboardReads, type LinkedTrialRow, type TaskStateRow } from '../coordinator/store/dashboard-reads.js';
import type { EventRow } from '../coordinator/store/rows.js';

export type TaskCountsRecord = Record<TaskState, number>;

export interface SweepRecord {
  sweepId: string;
  name: string;
  fileName: string;
  state: string;
  createdAtMs: number;
  cellsTotal: number;
  counts: TaskCountsRecord;
  /** Time of the sweep's newest event (its end, once finished). */
  lastEventMs: number | null;
}

/** The spec a sweep was submitted with. */
export interface SweepSource {
  specYaml: string;
  fileName: string;
  overrides: string[];
}

/** One row of the trial grid. Accuracies are fractions in [0, 1]. */
export interface TrialGridRecord {
  seq: number;
  taskId: string;
  key: TrialKey;
  state: TaskState;
  /** The current (or last) attempt, 1-based; 0 before the first lease. */
  attempt: number;
  /** Worker of the current lease, else of the last finished attempt. */
  worker: string | null;
  error: string | null;
  parentTaskId: string | null;
  /** Epochs done by the current attempt (or the result). */
  epoch: number;
  /** Epochs the trial trains for. */
  epochs: number | null;
  backend: string | null;
  currentAccuracy: number | null;
  bestAccuracy: number | null;
  /** Test accuracy per epoch, for the sparkline. */
  curve: number[];
  /** 'succeeded' | 'diverged' once a result is stored. */
  resultStatus: string | null;
}

export interface AttemptRecord {
  attempt: number;
  workerId: string;
  startedAtMs: number;
  endedAtMs: number | null;
  /** 'succeeded' | 'failed' | 'expired' | 'cancelled'; null for the attempt in progress. */
  outcome: string | null;
  error: string | null;
}

export interface CheckpointRecord {
  name: string;
  sha256: string;
  size: number;
  epoch: number;
  attempt: number;
}

export interface LinkedTrialRecord {
  taskId: string;
  key: TrialKey;
  state: TaskState;
  /** The checkpoint of the parent the link is about ('best', 'best@10'). */
  checkpoint: string | null;
}

export interface TrialRecord {
  taskId: string;
  key: TrialKey;
  /** The resolved spec as stored (the parent's checkpoint travels beside it, in `parent`). */
  spec: Omit<TrialSpec, 'gatesFrom'>;
  state: TaskState;
  attempt: number;
  tries: number;
  leaseWorker: string | null;
  leasedAtMs: number | null;
  notBeforeMs: number;
  error: string | null;
  updatedAtMs: number;
  result: TrialResult | null;
  resultAttempt: number | null;
  completedAtMs: number | null;
  /** Epoch records reported while running, every attempt. */
  progress: Array<{ attempt: number; record: EpochRecord }>;
  attempts: AttemptRecord[];
  checkpoints: CheckpointRecord[];
  /** The ReLU trial whose checkpoint gives this trial's gates, and that checkpoint as uploaded (null until it is). */
  parent: (LinkedTrialRecord & { artifact: CheckpointRecord | null }) | null;
  /** Trials whose gates come from this trial's checkpoints. */
  dependants: LinkedTrialRecord[];
  sweeps: Array<{ sweepId: string; name: string }>;
}

export interface DashboardEventQuery {
  sweepId?: string;
  afterSeq?: number;
  beforeSeq?: number;
  /** Event types of events/event-schema.ts ('task.progress', 'sweep.complete', ...). */
  types?: readonly EventType[];
  taskId?: string;
  newestFirst?: boolean;
  limit: number;
}

/**
 * A dashboard event: the typed event of events/event-schema.ts, with `seq` the store's event
 * sequence number (it only grows; what Last-Event-ID resumes from).
 */
export type DashboardEvent = NpfEvent;

/** Everything the dashboard reads. */
export interface DashboardDataSource {
  /** The store's newest event sequence number: anything shown changes only when it moves. */
  lastEventSeq(): number;
  sweeps(): SweepRecord[];
  sweep(sweepId: string): SweepRecord | undefined;
  sweepSource(sweepId: string): SweepSource | undefined;
  /** The aggregation options stored with the sweep at submission (undefined for older sweeps: their spec text says). */
  aggregationOf(sweepId: string): SweepAggregation | undefined;
  /** The sweep's trials as the results module aggregates them. */
  outcomes(sweepId: string): TrialOutcome[];
  /** Wall time (ms) of every succeeded attempt of the sweep (for the ETA). */
  succeededDurations(sweepId: string): number[];
  trialGrid(sweepId: string): TrialGridRecord[];
  trial(taskId: string): TrialRecord | undefined;
  events(q: DashboardEventQuery): DashboardEvent[];
  close(): void;
}

/** The results module's status of a trial from its task state and result (as the coordinator reports outcomes). */
export function outcomeStatus(state: TaskState, resultStatus: string | null): TrialOutcome['status'] {
  if (state === 'succeeded') return resultStatus === 'diverged' ? 'diverged' : 'succeeded';
  if (state === 'failed' || state === 'cancelled') return state;
  return 'pending';
}

function emptyCounts(): TaskCountsRecord {
  return Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as TaskCountsRecord;
}

const parseKey = (json: string): TrialKey => JSON.parse(json) as TrialKey;

function linked(r: LinkedTrialRow): LinkedTrialRecord {
  return { taskId: r.task_id, key: parseKey(r.key_json), state: r.state, checkpoint: r.parent_checkpoint };
}

/** A stored event (the coordinator stores the typed events of events/event-schema.ts). */
export function toDashboardEvent(r: EventRow): DashboardEvent {
  const base = { v: EVENT_SCHEMA_VERSION, type: r.type, sweepId: r.sweep_id, payload: JSON.parse(r.payload_json) as unknown, time: new Date(r.time_ms).toISOString(), seq: r.seq };
  return (r.task_id ? { ...base, taskId: r.task_id } : base) as DashboardEvent;
}

/** What the grid and the results need of a stored result, parsed once. */
interface CachedResult {
  attempt: number;
  status: string;
  result: TrialResult;
  curve: number[];
}

/**
 * The data source over a coordinator store directory (read-only; safe beside a running
 * coordinator). What never changes once written is read once and kept: trial keys and epoch
 * totals, and each result (results are followed by rowid, which grows with every write), so
 * refreshing a sweep of 10,000 trials reads only its small state columns and what is new.
 */
export class StoreDataSource implements DashboardDataSource {
  private readonly reads: DashboardReads;
  private readonly docs = new Map<string, { key: TrialKey; epochs: number | null }>();
  private readonly results = new Map<string, CachedResult>();
  private resultsSeen = 0;

  constructor(dataDir: string) {
    this.reads = new DashboardReads(dataDir);
  }

  /** Read the results written since the last call. */
  private syncResults(): void {
    for (;;) {
      const rows = this.reads.resultsAfter(this.resultsSeen, 2000);
      for (const r of rows) {
        const result = JSON.parse(r.result_json) as TrialResult;
        this.results.set(r.task_id, { attempt: r.attempt, status: r.status, result, curve: result.epochs.map((e) => e.testAccuracy) });
        this.resultsSeen = r.rowid;
      }
      if (rows.length < 2000) return;
    }
  }

  /** The sweep's trials with their (cached) keys, results synced. */
  private trialsOf(sweepId: string): Array<{ row: TaskStateRow; key: TrialKey; epochs: number | null; result: CachedResult | undefined }> {
    const rows = this.reads.taskStates(sweepId);
    if (rows.some((r) => !this.docs.has(r.task_id))) {
      for (const d of this.reads.taskDocs(sweepId)) this.docs.set(d.task_id, { key: parseKey(d.key_json), epochs: d.epochs });
    }
    this.syncResults();
    return rows.map((row) => {
      const doc = this.docs.get(row.task_id)!;
      return { row, key: doc.key, epochs: doc.epochs, result: this.results.get(row.task_id) };
    });
  }

  lastEventSeq(): number {
    return this.reads.lastEventSeq();
  }

  private record(r: { sweep_id: string; name: string; file_name: string; state: string; created_at_ms: number; cells_total: number }): SweepRecord {
    const counts = emptyCounts();
    for (const c of this.reads.counts(r.sweep_id)) counts[c.state] = c.n;
    return {
      sweepId: r.sweep_id,
      name: r.name,
      fileName: r.file_name,
      state: r.state,
      createdAtMs: r.created_at_ms,
      cellsTotal: r.cells_total,
      counts,
      lastEventMs: this.reads.lastEventTime(r.sweep_id),
    };
  }

  sweeps(): SweepRecord[] {
    return this.reads.sweeps().map((r) => this.record(r));
  }

  sweep(sweepId: string): SweepRecord | undefined {
    const r = this.reads.sweep(sweepId);
    return r ? this.record(r) : undefined;
  }

  sweepSource(sweepId: string): SweepSource | undefined {
    const r = this.reads.sweep(sweepId);
    return r ? { specYaml: r.spec_yaml, fileName: r.file_name, overrides: JSON.parse(r.overrides_json) as string[] } : undefined;
  }

  aggregationOf(sweepId: string): SweepAggregation | undefined {
    const json = this.reads.sweep(sweepId)?.aggregation_json;
    return json ? (JSON.parse(json) as SweepAggregation) : undefined;
  }

  outcomes(sweepId: string): TrialOutcome[] {
    return this.trialsOf(sweepId).map(({ row, key, result }) => {
      const status = outcomeStatus(row.state, result?.status ?? null);
      // Only a finished trial's result counts (a re-armed trial keeps its old row until it finishes again).
      return { taskId: row.task_id, key, status, ...(result && row.state === 'succeeded' ? { result: result.result } : {}) };
    });
  }

  succeededDurations(sweepId: string): number[] {
    return this.reads.succeededDurations(sweepId);
  }

  trialGrid(sweepId: string): TrialGridRecord[] {
    const live = new Map<string, number[]>();
    for (const p of this.reads.liveEpochs(sweepId)) {
      const list = live.get(p.task_id) ?? [];
      if (p.test_accuracy !== null) list.push(p.test_accuracy);
      live.set(p.task_id, list);
    }
    return this.trialsOf(sweepId).map(({ row: r, key, epochs, result }) => {
      const running = r.state === 'leased' || r.state === 'running';
      const done = r.state === 'succeeded' && result !== undefined;
      const curve = running ? (live.get(r.task_id) ?? []) : done ? result.curve : [];
      return {
        seq: r.seq,
        taskId: r.task_id,
        key,
        state: r.state,
        attempt: r.attempt,
        worker: running ? r.lease_worker : r.last_worker,
        error: r.error,
        parentTaskId: r.parent_task_id,
        epoch: curve.length,
        epochs,
        backend: done ? result.result.backend : null,
        currentAccuracy: done ? result.result.finalTestAccuracy : (curve.at(-1) ?? null),
        bestAccuracy: done ? result.result.bestTestAccuracy : curve.length ? Math.max(...curve) : null,
        curve,
        resultStatus: done ? result.status : null,
      };
    });
  }

  trial(taskId: string): TrialRecord | undefined {
    const t = this.reads.trial(taskId);
    if (!t) return undefined;
    const artifact = (a: { name: string; sha256: string; size: number; epoch: number; attempt: number }): CheckpointRecord => ({
      name: a.name,
      sha256: a.sha256,
      size: a.size,
      epoch: a.epoch,
      attempt: a.attempt,
    });
    let parent: TrialRecord['parent'] = null;
    if (t.parent_task_id) {
      const p = this.reads.linkedTrial(t.parent_task_id);
      const checkpoint = t.parent_checkpoint ?? 'best';
      const art = this.reads.artifact(t.parent_task_id, checkpoint);
      parent = p
        ? { ...linked(p), checkpoint, artifact: art ? artifact(art) : null }
        : { taskId: t.parent_task_id, key: parseKey(t.key_json), state: 'pending', checkpoint, artifact: null };
    }
    return {
      taskId: t.task_id,
      key: parseKey(t.key_json),
      spec: JSON.parse(t.spec_json) as TrialRecord['spec'],
      state: t.state,
      attempt: t.attempt,
      tries: t.tries,
      leaseWorker: t.lease_worker,
      leasedAtMs: t.leased_at_ms,
      notBeforeMs: t.not_before_ms,
      error: t.error,
      updatedAtMs: t.updated_at_ms,
      result: t.result_json ? (JSON.parse(t.result_json) as TrialResult) : null,
      resultAttempt: t.result_attempt,
      completedAtMs: t.completed_at_ms,
      progress: this.reads.progress(taskId).map((p) => ({ attempt: p.attempt, record: JSON.parse(p.record_json) as EpochRecord })),
      attempts: this.reads.attempts(taskId).map((a) => ({
        attempt: a.attempt,
        workerId: a.worker_id,
        startedAtMs: a.started_at_ms,
        endedAtMs: a.ended_at_ms,
        outcome: a.outcome,
        error: a.error,
      })),
      checkpoints: this.reads.artifacts(taskId).map(artifact),
      parent,
      dependants: this.reads.dependants(taskId).map(linked),
      sweeps: this.reads.sweepsOfTask(taskId).map((s) => ({ sweepId: s.sweep_id, name: s.name })),
    };
  }

  events(q: DashboardEventQuery): DashboardEvent[] {
    return this.reads.events(q).map(toDashboardEvent);
  }

  close(): void {
    this.reads.close();
  }
}
