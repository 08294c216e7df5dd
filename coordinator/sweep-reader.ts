/**
 * A coordinator's state read from its directory without a coordinator: the store opened
 * read-only (beside a live writer, thanks to WAL), and the same read models the coordinator
 * answers GetSweep, ListSweeps, GetResults and WatchSweep from. What `npf ls`, `status`,
 * `results`, `watch` and `plot` use on a local run directory (offline).
 */
import { EventLog, type SweepEvent } from './core/event-log.js';
import { LeaseWaiters } from './core/lease-waiters.js';
import { ReadModels } from './core/read-models.js';
import { TaskLifecycle } from './core/task-lifecycle.js';
import type { CoreOptions, SweepAggregation, SweepSource, SweepSummary, TaskStateView } from './core/types.js';
import { CoordinatorStore } from './store/coordinator-store.js';
import type { TrialOutcome } from './sweep-types.js';

export class SweepReader {
  private readonly reads: ReadModels;
  private readonly log: EventLog;

  private constructor(private readonly store: CoordinatorStore) {
    // Reads need no lease policy: these values are never used to decide anything here.
    const opts: CoreOptions = { leaseTtlMs: 30_000, heartbeatIntervalMs: 5_000, maxAttempts: 3, retryBackoffMs: 0, maxBackoffMs: 0, now: Date.now, log: () => {} };
    const waiters = new LeaseWaiters();
    this.log = new EventLog(store, opts.now);
    const life = new TaskLifecycle(store, opts, this.log, waiters);
    this.reads = new ReadModels({ store, opts, observer: {}, events: this.log, life, waiters });
  }

  /** Open `<dataDir>/npf.db` read-only; a StoreError when there is none, or of another schema version. */
  static open(dataDir: string): SweepReader {
    return new SweepReader(new CoordinatorStore(dataDir, () => {}, 'full', 'readonly'));
  }

  /** Every sweep, newest first. */
  listSweeps(): SweepSummary[] {
    return this.reads.listSweeps();
  }

  getSweep(sweepId: string): SweepSummary {
    return this.reads.getSweep(sweepId);
  }

  outcomes(sweepId: string): TrialOutcome[] {
    return this.reads.outcomes(sweepId);
  }

  aggregationOf(sweepId: string): SweepAggregation | undefined {
    return this.reads.aggregationOf(sweepId);
  }

  sweepSource(sweepId: string): SweepSource {
    return this.reads.sweepSource(sweepId);
  }

  taskState(taskId: string): TaskStateView {
    return this.reads.taskState(taskId);
  }

  /** Stored events of a sweep with sequence > afterSeq, oldest first (each call sees the latest commit). */
  events(sweepId: string, afterSeq = 0): SweepEvent[] {
    return this.log.events(sweepId, afterSeq);
  }

  close(): void {
    this.store.close();
  }
}
