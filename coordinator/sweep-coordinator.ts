/**
 * The coordinator's behaviour, independent of gRPC: a facade over the core modules, and the
 * table of contents of what the coordinator does. State lives in the store (coordinator/store/,
 * the only SQL); every task state change goes through TaskLifecycle.setState, checked against
 * task-state.ts. The clock is passed in (`now`), and lease expiry runs when `expireLeases()` is
 * called (a timer in main.ts, directly in tests with a fake clock).
 *
 *   sweeps       core/sweeps.ts        submit, cancel (a sweep, or single trials)
 *   read models  core/read-models.ts   sweep summaries, counts, outcomes, a task's state
 *   workers      core/workers.ts       register, heartbeat (renew, progress, stop)
 *   leasing      core/leasing.ts       lease now, long poll (core/lease-waiters.ts)
 *   completion   core/completion.ts    complete, batch complete, fail, expire, release
 *   fence        core/fence.ts         the one lease check of every report
 *   artifacts    core/artifacts.ts     upload, download
 *   events       core/event-log.ts     stored events and their listeners
 *   lifecycle    core/task-lifecycle.ts  setState, the write, dependants, attempts
 *   retention    core/retention.ts     prune old progress events and epoch records
 */
import type { ArtifactStore, ArtifactUpload } from './artifact-store.js';
import { Artifacts } from './core/artifacts.js';
import { Completion } from './core/completion.js';
import type { CoreContext } from './core/context.js';
import { EventLog, type SweepEvent } from './core/event-log.js';
import { LeaseWaiters } from './core/lease-waiters.js';
import { Leasing } from './core/leasing.js';
import { ReadModels } from './core/read-models.js';
import { pruneHistory, type PruneReport } from './core/retention.js';
import { Sweeps } from './core/sweeps.js';
import { TaskLifecycle } from './core/task-lifecycle.js';
import type * as T from './core/types.js';
import { Workers } from './core/workers.js';
import type { CoordinatorStore } from './store/coordinator-store.js';
import type { TrialOutcome } from './sweep-types.js';
import { TASK_STATES } from './task-state.js';

export { MAX_BATCH } from './core/completion.js';
export { sweepIdOf } from './core/sweeps.js';
export type { SweepEvent } from './core/event-log.js';
export type * from './core/types.js';

export class SweepCoordinator {
  private readonly log: EventLog;
  private readonly sweeps: Sweeps;
  private readonly reads: ReadModels;
  private readonly workers: Workers;
  private readonly leasing: Leasing;
  private readonly completion: Completion;
  private readonly files: Artifacts;

  constructor(
    readonly store: CoordinatorStore,
    artifacts: ArtifactStore,
    opts: T.CoreOptions,
    observer: T.CoreObserver = {},
  ) {
    const waiters = new LeaseWaiters();
    this.log = new EventLog(store, opts.now);
    const life = new TaskLifecycle(store, opts, this.log, waiters);
    const c: CoreContext = { store, opts, observer, events: this.log, life, waiters };
    this.sweeps = new Sweeps(c);
    this.reads = new ReadModels(c);
    this.workers = new Workers(c);
    this.leasing = new Leasing(c);
    this.completion = new Completion(c, this.leasing);
    this.files = new Artifacts(c, artifacts);
    this.prune = (retentionMs) => pruneHistory(c, retentionMs);
  }

  /** Prune progress events and epoch records of what finished more than `retentionMs` ago (core/retention.ts). */
  readonly prune: (retentionMs: number) => Promise<PruneReport>;

  /** States known to the machine (for metrics labels). */
  static readonly states = TASK_STATES;

  // ---------------------------------------------------------------- events

  /** Follow every event after it is committed. Returns the unsubscribe function. */
  onEvent(listener: (e: SweepEvent) => void): () => void {
    return this.log.onEvent(listener);
  }

  /** Stored events of a sweep with sequence > afterSeq, oldest first. */
  events(sweepId: string, afterSeq = 0): SweepEvent[] {
    return this.log.events(sweepId, afterSeq);
  }

  // ---------------------------------------------------------------- sweeps

  submitSweep(input: T.SubmitInput): Promise<T.SubmitOutcome> {
    return this.sweeps.submitSweep(input);
  }

  cancelSweep(sweepId: string): Promise<number> {
    return this.sweeps.cancelSweep(sweepId);
  }

  /** Cancel a sweep's open tasks; returns the ids cancelled. */
  cancelSweepTasks(sweepId: string): Promise<string[]> {
    return this.sweeps.cancelSweepTasks(sweepId);
  }

  /** Cancel single trials of a sweep (ids or unique prefixes); returns the ids cancelled. */
  cancelTrials(sweepId: string, refs: readonly string[]): Promise<string[]> {
    return this.sweeps.cancelTrials(sweepId, refs);
  }

  // ---------------------------------------------------------------- read models

  getSweep(sweepId: string): T.SweepSummary {
    return this.reads.getSweep(sweepId);
  }

  listSweeps(): T.SweepSummary[] {
    return this.reads.listSweeps();
  }

  countsOf(sweepId: string): T.TaskCounts {
    return this.reads.countsOf(sweepId);
  }

  outcomes(sweepId: string): TrialOutcome[] {
    return this.reads.outcomes(sweepId);
  }

  sweepSource(sweepId: string): T.SweepSource {
    return this.reads.sweepSource(sweepId);
  }

  aggregationOf(sweepId: string): T.SweepAggregation | undefined {
    return this.reads.aggregationOf(sweepId);
  }

  taskIdsOf(sweepId: string): string[] {
    return this.reads.taskIdsOf(sweepId);
  }

  result(taskId: string): ReturnType<ReadModels['result']> {
    return this.reads.result(taskId);
  }

  taskState(taskId: string): T.TaskStateView {
    return this.reads.taskState(taskId);
  }

  attemptsOf(taskId: string): T.AttemptView[] {
    return this.reads.attemptsOf(taskId);
  }

  taskCounts(): T.TaskCounts {
    return this.reads.taskCounts();
  }

  usedResources(): { cpu: number; gpu: number; memoryMb: number } {
    return this.reads.usedResources();
  }

  liveWorkers(): T.LiveWorker[] {
    return this.reads.liveWorkers();
  }

  // ---------------------------------------------------------------- workers and leases

  registerWorker(input: T.RegisterInput): Promise<T.Registration> {
    return this.workers.registerWorker(input);
  }

  /** Refuse a call naming `workerId` without its secret (PERMISSION_DENIED), or an unknown worker (NOT_FOUND). */
  authenticateWorker(workerId: string, workerSecret: string): void {
    this.workers.authenticate(workerId, workerSecret);
  }

  heartbeat(workerId: string, tasks: readonly T.ProgressInput[], draining: boolean): Promise<{ cancelTaskIds: string[] }> {
    return this.workers.heartbeat(workerId, tasks, draining);
  }

  leaseNow(workerId: string, maxTasks: number): Promise<T.Lease[]> {
    return this.leasing.leaseNow(workerId, maxTasks);
  }

  leaseTasks(workerId: string, maxTasks: number, waitMs: number, signal?: AbortSignal): Promise<T.Lease[]> {
    return this.leasing.leaseTasks(workerId, maxTasks, waitMs, signal);
  }

  // ---------------------------------------------------------------- completion

  completeTask(report: T.CompletionReport, leaseNext = 0): Promise<{ nextLeases: T.Lease[] }> {
    return this.completion.completeTask(report, leaseNext);
  }

  completeTasks(items: readonly T.CompletionReport[], leaseNext = 0): Promise<{ outcomes: T.CompletionOutcome[]; nextLeases: T.Lease[] }> {
    return this.completion.completeTasks(items, leaseNext);
  }

  failTask(workerId: string, taskId: string, fencingToken: number, error: string, retryable: boolean, interrupted = false): Promise<{ willRetry: boolean }> {
    return this.completion.failTask(workerId, taskId, fencingToken, error, retryable, interrupted);
  }

  expireLeases(): Promise<number> {
    return this.completion.expireLeases();
  }

  releaseAllLeases(reason: string): Promise<number> {
    return this.completion.releaseAllLeases(reason);
  }

  // ---------------------------------------------------------------- artifacts

  beginUpload(header: T.UploadHeader): ArtifactUpload {
    return this.files.beginUpload(header);
  }

  finishUpload(upload: ArtifactUpload, header: T.UploadHeader): Promise<{ sha256: string; size: number }> {
    return this.files.finishUpload(upload, header);
  }

  artifactPath(sha256: string): string {
    return this.files.artifactPath(sha256);
  }

  artifactsOf(taskId: string): T.ArtifactRef[] {
    return this.files.artifactsOf(taskId);
  }
}
