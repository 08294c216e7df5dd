/**
 * Read models: what the CLI, the metrics and the results module read (sweep summaries, counts,
 * trial outcomes, a task's state and attempts). Reads only; no write is opened here.
 */
import type { TrialResult, TrialSpec } from '../../science/types.js';
import type { SweepRow } from '../store/rows.js';
import type { TrialOutcome } from '../sweep-types.js';
import { requireId, type CoreContext } from './context.js';
import { emptyCounts } from './task-lifecycle.js';
import type { AttemptView, LiveWorker, SweepAggregation, SweepSource, SweepSummary, TaskCounts, TaskStateView } from './types.js';

export class ReadModels {
  constructor(private readonly c: CoreContext) {}

  getSweep(sweepId: string): SweepSummary {
    requireId(sweepId, 'sweep_id');
    return this.summary(this.c.life.sweep(sweepId));
  }

  /** Every sweep, newest first. */
  listSweeps(): SweepSummary[] {
    return this.c.store.sweeps.list().map((s) => this.summary(s));
  }

  /** Tasks of a sweep by state. */
  countsOf(sweepId: string): TaskCounts {
    return this.c.life.countsOf(sweepId);
  }

  /** Every trial of a sweep with its result, for the results module. */
  outcomes(sweepId: string): TrialOutcome[] {
    this.c.life.sweep(sweepId);
    return this.c.store.sweeps.outcomes(sweepId).map((r) => {
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
        spec: JSON.parse(r.spec_json) as TrialSpec,
        ...(r.result_json ? { result: JSON.parse(r.result_json) as TrialResult } : {}),
      };
    });
  }

  /** The spec text a sweep was submitted with. */
  sweepSource(sweepId: string): SweepSource {
    const s = this.c.life.sweep(sweepId);
    return { specYaml: s.spec_yaml, fileName: s.file_name, overrides: JSON.parse(s.overrides_json) as string[] };
  }

  /**
   * The aggregation options stored when the sweep was submitted; undefined for a sweep submitted
   * before they were stored (schema version 3), whose options come from its spec text.
   */
  aggregationOf(sweepId: string): SweepAggregation | undefined {
    const json = this.c.life.sweep(sweepId).aggregation_json;
    return json === null ? undefined : (JSON.parse(json) as SweepAggregation);
  }

  /** The stored result of one task, if it finished. */
  result(taskId: string): TrialResult | undefined {
    const r = this.c.store.results.byTask(taskId);
    return r ? (JSON.parse(r.result_json) as TrialResult) : undefined;
  }

  /** Current state of one task. */
  taskState(taskId: string): TaskStateView {
    const r = this.c.life.task(taskId);
    return { state: r.state, attempt: r.attempt, tries: r.tries, error: r.error, notBeforeMs: r.not_before_ms };
  }

  /** Finished attempts of a task, oldest first. */
  attemptsOf(taskId: string): AttemptView[] {
    return this.c.store.attempts.ofTask(taskId).map((a) => ({ attempt: a.attempt, workerId: a.worker_id, outcome: a.outcome, error: a.error }));
  }

  /** Ids of all tasks of a sweep in submission order. */
  taskIdsOf(sweepId: string): string[] {
    return this.c.store.sweeps.taskIds(sweepId);
  }

  /** Count of tasks by state over all sweeps. */
  taskCounts(): TaskCounts {
    const counts = emptyCounts();
    for (const r of this.c.store.tasks.countByState()) counts[r.state] = r.n;
    return counts;
  }

  /** Resources held by leases, summed (for metrics). */
  usedResources(): { cpu: number; gpu: number; memoryMb: number } {
    return this.c.store.tasks.usedResources();
  }

  /** Workers seen within one lease TTL. */
  liveWorkers(): LiveWorker[] {
    return this.c.store.workers
      .seenSince(this.c.opts.now() - this.c.opts.leaseTtlMs)
      .map((w) => ({ workerId: w.worker_id, hostname: w.hostname, cpu: w.cpu, gpu: w.gpu, memoryMb: w.memory_mb }));
  }

  private summary(s: SweepRow): SweepSummary {
    return {
      sweepId: s.sweep_id,
      name: s.name,
      state: s.state,
      createdAtMs: s.created_at_ms,
      counts: this.c.life.countsOf(s.sweep_id),
      cellsComplete: this.c.store.sweeps.cellsComplete(s.sweep_id),
      cellsTotal: s.cells_total,
      ...bundles(this.c.store.tasks.bundlesOfSweep(s.sweep_id)),
    };
  }
}

function bundles([count, members]: [number, number]): { bundles: number; bundledTasks: number } {
  return { bundles: count, bundledTasks: members };
}
