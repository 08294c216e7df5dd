/**
 * The tasks this worker holds right now, shared by the lease loop (free slots), the heartbeats
 * (cancels), the task pipeline and drain.
 *
 * Task lifecycle on this worker: 'fetching' (parent checkpoint) -> 'running' (child process)
 * -> 'reporting' (upload + CompleteTasks / FailTask) -> removed.
 *
 * A slot is a process: the members of a bundle (fused trials, one stacked process) share one.
 */
import type { TaskLease } from '../gen/npf/v1/sweep.js';
import type { BundleProcess } from './bundle-process.js';

export type TaskPhase = 'fetching' | 'running' | 'reporting';

export interface ActiveTask {
  readonly lease: TaskLease;
  phase: TaskPhase;
  /** Its process (shared by the members of a bundle): stop() ends it. */
  proc?: { stop(graceMs: number): Promise<unknown> };
  /** The bundle's process, when the task is a member of one (lease.bundleId). */
  bundle?: BundleProcess;
  /** The backend the trial uses (from the spec, then from the child's 'started' event). */
  backend: string;
  /** The coordinator asked to stop it (cancelled, or lease lost): report nothing. */
  cancelled: boolean;
  /** Killed because the worker is draining: hand back as retryable. */
  drained: boolean;
  /** Settles when the task has left the worker (reported or dropped). */
  done: Promise<void>;
}

export class ActiveTasks {
  private readonly tasks = new Map<string, ActiveTask>();
  private wake?: () => void;

  constructor(private readonly concurrency: number) {}

  get size(): number {
    return this.tasks.size;
  }

  /** Slots not taken by a process (a bundle takes one, whatever its size). */
  freeSlots(): number {
    return this.concurrency - this.processes();
  }

  /** Processes the held tasks need: one per bundle, one per task alone. */
  processes(): number {
    return new Set(this.all().map((t) => t.lease.bundleId || t.lease.taskId)).size;
  }

  /** Bundles with a member running (npf_worker_bundles_running). */
  bundlesRunning(): number {
    return new Set(this.all().filter((t) => t.phase === 'running' && t.lease.bundleId).map((t) => t.lease.bundleId)).size;
  }

  get(taskId: string): ActiveTask | undefined {
    return this.tasks.get(taskId);
  }

  all(): ActiveTask[] {
    return [...this.tasks.values()];
  }

  /** Tasks whose child process is running (npf_worker_trials_running). */
  running(): number {
    return this.all().filter((t) => t.phase === 'running').length;
  }

  add(task: ActiveTask): void {
    this.tasks.set(task.lease.taskId, task);
  }

  /** Remove a finished task and wake whoever waits for a free slot. */
  remove(taskId: string): void {
    this.tasks.delete(taskId);
    this.wakeWaiter();
  }

  /** Resolves at the next remove() or wakeWaiter() (the lease loop waits here when full). */
  slotFreed(): Promise<void> {
    return new Promise<void>((r) => (this.wake = r));
  }

  wakeWaiter(): void {
    this.wake?.();
    this.wake = undefined;
  }
}
