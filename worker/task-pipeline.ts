/**
 * The per-task pipeline: one leased task from its lease to its report.
 *
 *   'fetching'  the parent checkpoint (when the lease names one), verified, from the local cache
 *   'running'   the trial in its own child process (trial-process.ts), progress to the heartbeats
 *   'reporting' checkpoints uploaded, then the result in CompleteTasks (batched with the other
 *               results of the same turn) or the failure in FailTask
 *
 * While it runs, the trial's resume states are uploaded (artifact 'resume', latest first), and a
 * lease that carries one (`resume_from`, an earlier attempt's) starts the trial from it.
 *
 * Leases with the same bundle id (fused trials, docs/fusion.md) share one child process
 * (bundle-process.ts): each member still goes through its own phases, reports its own result or
 * failure with its own fencing token, and is cancelled alone; a member whose gates cannot be
 * fetched fails alone and the others start without it. Fused members write no resume states; a
 * retried task (the only kind with one) is never bundled, and one that came bundled with a resume
 * state would run alone.
 *
 * A task the coordinator cancels reports nothing; a task stopped by drain is handed back as
 * interrupted (not a failure: it does not use up one of the task's attempts). Every coordinator call goes through WorkerRetry ('report' row).
 */
import { copyFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { describeError, InvalidInputError } from '../common/errors.js';

/** A task id as a folder name may hold it: the coordinator's are sha256 hex. */
const TASK_ID_FORM = /^[A-Za-z0-9_-]{1,128}$/;
import type { ArtifactRef, TaskLease } from '../gen/npf/v1/sweep.js';
import { resolveTrialSpec } from '../science/trial-spec.js';
import type { CheckpointInfo, CheckpointRef, TrialProgress, TrialSpec } from '../science/types.js';
import type { ActiveTask, ActiveTasks } from './active-tasks.js';
import { uploadCheckpoint, type ArtifactCache } from './artifacts.js';
import { CompletionBatcher } from './completion-batcher.js';
import { describeCallError, grpcCode, type CoordinatorClient } from './coordinator-client.js';
import { ArtifactIntegrityError } from './errors.js';
import type { FailureReason } from './failure.js';
import { placementEnv } from './gpu-inventory.js';
import type { WorkerMetrics } from './metrics.js';
import type { ProgressBuffer } from './progress-buffer.js';
import { BundleProcess } from './bundle-process.js';
import { TrialProcess, type TrialProcessOutcome } from './trial-process.js';
import type { ResolvedWorkerOptions } from './worker-options.js';
import type { WorkerRetry } from './worker-retry.js';

export interface TaskPipelineOptions {
  options: Pick<ResolvedWorkerOptions, 'workDir' | 'backend' | 'resources' | 'childEnv' | 'killGraceMs' | 'resumeEveryMs'>;
  /** Compiled trial child entry. */
  childScript: string;
  client: CoordinatorClient;
  retry: WorkerRetry;
  cache: ArtifactCache;
  metrics: WorkerMetrics;
  progress: ProgressBuffer;
  tasks: ActiveTasks;
  workerId: () => string;
  /** False while draining or stopped: new leases are handed straight back. */
  isRunning: () => boolean;
  log: (line: string) => void;
}

const DRAINING_NOT_STARTED = 'worker is draining; the task was not started';

/** A task ready to train: its resolved spec, its verified gates, its directory. */
interface Prepared {
  spec: TrialSpec;
  gates?: CheckpointRef;
  dir: string;
}

export function shortId(taskId: string): string {
  return taskId.slice(0, 12);
}

export class TaskPipeline {
  /** Results ready in the same event-loop turn go out in one CompleteTasks call. */
  private readonly completions: CompletionBatcher;
  /** Per running task: its resume-state uploads, one after the other, and the newest epoch announced. */
  private readonly resumeUploads = new Map<string, { chain: Promise<void>; latest: number }>();

  constructor(private readonly o: TaskPipelineOptions) {
    const { retry, client } = o;
    // The worker id is read at each (re)send: a retry after re-registering carries the new one.
    this.completions = new CompletionBatcher({
      sendBatch: (items, leaseNext) =>
        retry.run('report', `reporting ${items.length} result(s)`, () =>
          client.completeMany({ items: items.map((i) => ({ ...i, workerId: o.workerId(), leaseNext: 0 })), leaseNext }),
        ),
      sendOne: (item, leaseNext) =>
        retry.run('report', `reporting task ${shortId(item.taskId)}`, () => client.complete({ ...item, workerId: o.workerId(), leaseNext })),
      // Ask for the next trial with the result (lease_next): the reported task still counts in
      // the active tasks until its answer, so no LeaseTasks in flight was sized for its slot, and
      // the slot passes straight to the new lease without a LeaseTasks round trip. Not while draining.
      leaseNextPerResult: (item) => (o.isRunning() && this.freesSlot(item.taskId) ? 1 : 0),
      onLeases: (leases) => this.accept(leases),
      onFallback: () => o.log('the coordinator has no CompleteTasks (an older version): reporting results one CompleteTask each'),
    });
  }

  /** Members of each bundle that have not yet reported (a bundle's slot is free once none is left). */
  private readonly bundleOpen = new Map<string, Set<string>>();

  /** Whether reporting this task frees its slot: alone, or the last member of its bundle to report. */
  private freesSlot(taskId: string): boolean {
    const bundleId = this.o.tasks.get(taskId)?.lease.bundleId;
    if (!bundleId) return true;
    const open = this.bundleOpen.get(bundleId);
    open?.delete(taskId);
    return !open || open.size === 0;
  }

  /** Start leased tasks (from LeaseTasks or CompleteTask's next_leases); hand them back when draining. */
  accept(leases: readonly TaskLease[]): void {
    const bundles = new Map<string, TaskLease[]>();
    for (const lease of leases) {
      if (!this.o.isRunning()) {
        void this.report(lease, 'drained', DRAINING_NOT_STARTED, true);
        continue;
      }
      // A lease with a resume state is an earlier attempt's: it runs alone (never bundled by the coordinator anyway).
      if (lease.bundleId && !lease.resumeFrom?.sha256) bundles.set(lease.bundleId, [...(bundles.get(lease.bundleId) ?? []), lease]);
      else this.start(lease);
    }
    for (const members of bundles.values()) this.startBundle(members);
  }

  /** The coordinator asked to stop a task (heartbeat answer). */
  cancel(taskId: string): void {
    const t = this.o.tasks.get(taskId);
    // A task already reporting has its result: the cancel is the coordinator seeing it complete.
    if (!t || t.cancelled || t.phase === 'reporting') return;
    t.cancelled = true;
    this.o.log(`task ${shortId(taskId)}: cancelled by the coordinator; stopping its trial`);
    // A bundle member leaves the stack; the other members go on.
    if (t.bundle) t.bundle.cancelMember(taskId);
    else void t.proc?.stop(this.o.options.killGraceMs);
  }

  /** Track a leased task until `work` settles. */
  private track(lease: TaskLease, work: (task: ActiveTask) => Promise<void>): ActiveTask {
    const { tasks, progress, metrics } = this.o;
    const task: ActiveTask = { lease, phase: 'fetching', backend: 'unknown', cancelled: false, drained: false, done: Promise.resolve() };
    tasks.add(task);
    progress.track(lease.taskId, lease.fencingToken);
    task.done = work(task)
      .catch((err: unknown) => this.o.log(`task ${shortId(lease.taskId)}: ${describeError(err)}`))
      .finally(() => {
        this.resumeUploads.delete(lease.taskId);
        progress.untrack(lease.taskId);
        tasks.remove(lease.taskId);
        metrics.trialsRunning.set(tasks.running());
        metrics.bundlesRunning.set(tasks.bundlesRunning());
      });
    return task;
  }

  private start(lease: TaskLease): void {
    this.track(lease, (task) => this.run(task));
  }

  /**
   * The members of one bundle: each is fetched (spec, gates) on its own; those ready start
   * together in one stacked process; each then reports on its own.
   */
  private startBundle(leases: TaskLease[]): void {
    const bundleId = leases[0].bundleId;
    const open = new Set(leases.map((l) => l.taskId));
    this.bundleOpen.set(bundleId, open);
    // The process starts once every member is fetched (or has failed alone).
    let release!: (ready: Map<string, Prepared>) => void;
    const started = new Promise<Map<string, Prepared>>((r) => (release = r));
    const ready = new Map<string, Prepared>();
    let pending = leases.length;
    const member = async (task: ActiveTask): Promise<void> => {
      let prepared: Prepared | undefined;
      try {
        prepared = await this.prepare(task);
      } finally {
        if (prepared) ready.set(task.lease.taskId, prepared);
        if (--pending === 0) release(ready);
      }
      if (!prepared) return;
      await started;
      // No process: cancelled before the start, or handed back because the worker drains.
      if (!task.bundle) return;
      await this.finish(task, prepared, await task.bundle.outcome(task.lease.taskId));
    };
    const members = leases.map((lease) =>
      this.track(lease, async (task) => {
        try {
          await member(task);
        } finally {
          open.delete(lease.taskId);
          if (open.size === 0) this.bundleOpen.delete(bundleId);
        }
      }),
    );
    // Registered before any member awaits `started`, so the process exists when they go on.
    void started.then((prepared) => {
      const runnable = members.filter((t) => prepared.has(t.lease.taskId) && !t.cancelled);
      if (runnable.length === 0) return;
      if (!this.o.isRunning()) {
        for (const t of runnable) void this.report(t.lease, 'drained', DRAINING_NOT_STARTED, true);
        return;
      }
      const first = runnable[0];
      const memoryMb = first.lease.resources?.memoryMb ?? 0;
      const bundle = new BundleProcess({
        childScript: this.o.childScript,
        members: runnable.map((t) => {
          const p = prepared.get(t.lease.taskId) as Prepared;
          return { taskId: t.lease.taskId, spec: p.spec, gates: p.gates, checkpointDir: join(p.dir, 'checkpoints') };
        }),
        env: this.childEnv(first.lease),
        maxOldSpaceMb: memoryMb >= 512 ? memoryMb : undefined,
        onProgress: (taskId, event, bytes) => {
          const t = this.o.tasks.get(taskId);
          if (t) this.onProgress(t, event, bytes);
        },
      });
      for (const t of runnable) {
        t.bundle = bundle;
        t.proc = bundle;
        this.setPhase(t, 'running');
      }
      this.o.log(`bundle ${shortId(bundleId)}: ${runnable.length} fused trial(s) started in one process (pid ${bundle.pid})`);
    });
  }


  /**
   * The task's own folder under the work dir, removed when the task ends: named from the lease, so
   * the lease's task id and fencing token are checked first (letters, digits, - and _ only; a
   * whole number), never a path that leaves tasks/ (a hostile or broken coordinator's '../..').
   */
  private taskDir(lease: TaskLease): string {
    if (!TASK_ID_FORM.test(lease.taskId) || !Number.isSafeInteger(lease.fencingToken) || lease.fencingToken < 0) {
      throw new InvalidInputError(`lease refused: task id '${lease.taskId.slice(0, 80)}' or fencing token ${lease.fencingToken} is not of the expected form`, { taskId: lease.taskId });
    }
    return join(this.o.options.workDir, 'tasks', `${lease.taskId.slice(0, 16)}-a${lease.fencingToken}`);
  }

  private setPhase(task: ActiveTask, phase: ActiveTask['phase']): void {
    task.phase = phase;
    this.o.metrics.trialsRunning.set(this.o.tasks.running());
    this.o.metrics.bundlesRunning.set(this.o.tasks.bundlesRunning());
  }

  /**
   * The task's spec and gates, ready to train, or undefined when it cannot start (reported
   * here: invalid spec, gates not available, draining) or was cancelled meanwhile.
   */
  private async prepare(task: ActiveTask): Promise<Prepared | undefined> {
    const { lease } = task;
    const { retry, client, cache } = this.o;
    const parsed = this.specOf(lease);
    if ('invalid' in parsed) {
      await this.report(lease, 'invalid', parsed.invalid, false);
      return undefined;
    }
    const { spec } = parsed;
    let gates: CheckpointRef | undefined;
    if (lease.gatesFrom?.sha256) {
      const ref = lease.gatesFrom;
      try {
        const path = await retry.run('report', `downloading checkpoint ${ref.sha256.slice(0, 12)}`, () => cache.fetch(client, ref));
        gates = { path, sha256: ref.sha256 };
      } catch (err) {
        if (task.cancelled) return undefined;
        const deterministic = err instanceof ArtifactIntegrityError || grpcCode(err) === grpc.status.NOT_FOUND;
        await this.report(lease, 'artifact', `could not get the parent checkpoint ${ref.name} (${ref.sha256.slice(0, 12)}...): ${describeError(err)}`, !deterministic);
        return undefined;
      }
    }
    if (task.cancelled) return undefined;
    if (!this.o.isRunning()) {
      await this.report(lease, 'drained', DRAINING_NOT_STARTED, true);
      return undefined;
    }
    const dir = this.taskDir(lease);
    await mkdir(join(dir, 'checkpoints'), { recursive: true });
    task.backend = spec.backend;
    return { spec, gates, dir };
  }

  /** Environment of a task's child: its GPU, or none. */
  private childEnv(lease: TaskLease): NodeJS.ProcessEnv {
    return { ...this.o.options.childEnv, ...placementEnv(lease.gpuIndex, this.o.options.resources.gpu) };
  }

  private async run(task: ActiveTask): Promise<void> {
    const { lease } = task;
    const prepared = await this.prepare(task);
    if (!prepared) return;
    const resume = await this.fetchResumeState(lease);
    if (task.cancelled) return;
    const memoryMb = lease.resources?.memoryMb ?? 0;
    const proc = new TrialProcess({
      childScript: this.o.childScript,
      spec: prepared.spec,
      gates: prepared.gates,
      checkpointDir: join(prepared.dir, 'checkpoints'),
      resume,
      resumeEveryMs: this.o.options.resumeEveryMs,
      env: this.childEnv(lease),
      maxOldSpaceMb: memoryMb >= 512 ? memoryMb : undefined,
      onProgress: (event, bytes) => this.onProgress(task, event, bytes),
    });
    task.proc = proc;
    this.setPhase(task, 'running');
    this.o.log(`task ${shortId(lease.taskId)} attempt ${lease.fencingToken}: started (pid ${proc.pid})${resume ? `, resuming after epoch ${lease.resumeFrom?.epoch}` : ''}`);
    const outcome = await proc.done;
    this.setPhase(task, 'reporting');
    // The last resume state goes up before the task is handed back (its next attempt starts from it).
    await this.resumeUploads.get(lease.taskId)?.chain;
    await this.finish(task, prepared, outcome);
  }

  /** Report how the task's trial ended: its result (checkpoints uploaded first), a failure, or nothing when cancelled. */
  private async finish(task: ActiveTask, prepared: Prepared, outcome: TrialProcessOutcome): Promise<void> {
    const { lease } = task;
    const { retry, client } = this.o;
    this.setPhase(task, 'reporting');
    try {
      if (task.cancelled) {
        this.o.log(`task ${shortId(lease.taskId)}: stopped (cancelled by the coordinator)`);
        return;
      }
      if (task.drained || outcome.kind === 'stopped' || (outcome.kind === 'result' && outcome.result.status === 'cancelled')) {
        return await this.report(lease, 'drained', 'worker was stopped (draining) before the trial finished; handed back for another worker', true);
      }
      if (outcome.kind === 'failed') {
        return await this.report(lease, outcome.verdict.reason, outcome.verdict.message, outcome.verdict.retryable);
      }
      const result = outcome.result;
      const artifacts: ArtifactRef[] = [];
      for (const cp of result.checkpoints) {
        try {
          artifacts.push(await retry.run('report', `uploading checkpoint ${cp.name} of task ${shortId(lease.taskId)}`, () => uploadCheckpoint(client, this.o.workerId(), lease.taskId, lease.fencingToken, cp)));
        } catch (err) {
          if (err instanceof ArtifactIntegrityError) return await this.report(lease, 'artifact', `checkpoint ${cp.name}: ${err.message}`, true);
          throw err;
        }
      }
      // Results ready in the same turn share one CompleteTasks call (completion-batcher.ts);
      // the leases granted with it (lease_next) start from there.
      await this.completions.submit({ workerId: this.o.workerId(), taskId: lease.taskId, fencingToken: lease.fencingToken, resultJson: JSON.stringify(result), artifacts });
      this.o.log(`task ${shortId(lease.taskId)} attempt ${lease.fencingToken}: ${result.status}, best test accuracy ${(result.bestTestAccuracy * 100).toFixed(2)}% at epoch ${result.bestEpoch}`);
    } catch (err) {
      this.o.log(`task ${shortId(lease.taskId)}: the coordinator refused the report (${describeCallError(err)}); dropping it`);
    } finally {
      await rm(prepared.dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /**
   * The lease's spec as a resolved TrialSpec (the worker's backend filling in 'auto'), or why it
   * is not one. The parent checkpoint is not part of it: it travels beside it (`gates`).
   */
  private specOf(lease: TaskLease): { spec: TrialSpec } | { invalid: string } {
    let spec: TrialSpec;
    try {
      spec = resolveTrialSpec(JSON.parse(lease.specJson), "the task's spec");
    } catch (err) {
      return { invalid: err instanceof SyntaxError ? `the task's spec_json is not JSON (${err.message})` : describeError(err) };
    }
    const backend = this.o.options.backend;
    return { spec: backend && backend !== 'auto' && spec.backend === 'auto' ? { ...spec, backend } : spec };
  }

  /** An earlier attempt's resume state, downloaded and verified; none (train from the start) when it cannot be had. */
  private async fetchResumeState(lease: TaskLease): Promise<CheckpointRef | undefined> {
    const ref = lease.resumeFrom;
    if (!ref?.sha256) return undefined;
    try {
      const path = await this.o.retry.run('report', `downloading resume state ${ref.sha256.slice(0, 12)}`, () => this.o.cache.fetch(this.o.client, ref));
      return { path, sha256: ref.sha256 };
    } catch (err) {
      this.o.log(`task ${shortId(lease.taskId)}: its resume state (epoch ${ref.epoch}) cannot be had, training from the start: ${describeError(err)}`);
      return undefined;
    }
  }

  /**
   * Upload a resume state the trial announced. A private copy is taken at once (the trial
   * overwrites resume.npfckpt at its next point); uploads run one at a time, and one that a newer
   * point overtook while waiting is skipped. A failed upload is logged: the trial goes on.
   */
  private onResumePoint(task: ActiveTask, cp: CheckpointInfo): void {
    const { lease } = task;
    const id = shortId(lease.taskId);
    const entry = this.resumeUploads.get(lease.taskId) ?? { chain: Promise.resolve(), latest: 0 };
    this.resumeUploads.set(lease.taskId, entry);
    entry.latest = cp.epoch;
    const copy = `${cp.path}.epoch-${cp.epoch}`;
    try {
      copyFileSync(cp.path, copy);
    } catch (err) {
      this.o.log(`task ${id}: resume state of epoch ${cp.epoch} not kept (${describeError(err)})`);
      return;
    }
    entry.chain = entry.chain.then(async () => {
      try {
        if (entry.latest !== cp.epoch) return;
        await this.o.retry.run('report', `uploading the resume state of task ${id}`, () => uploadCheckpoint(this.o.client, this.o.workerId(), lease.taskId, lease.fencingToken, { ...cp, path: copy }));
      } catch (err) {
        this.o.log(`task ${id}: resume state of epoch ${cp.epoch} not uploaded (${describeError(err)})`);
      } finally {
        await rm(copy, { force: true }).catch(() => undefined);
      }
    });
  }

  private onProgress(task: ActiveTask, event: TrialProgress, bytes?: number): void {
    if (event.kind === 'started') task.backend = event.backend;
    if (event.kind === 'resume-point') this.onResumePoint(task, event.checkpoint);
    if (event.kind !== 'epoch') return;
    this.o.progress.add(task.lease.taskId, event.record);
    const { metrics } = this.o;
    const backend = task.backend;
    metrics.examplesPerSecond.set({ backend }, event.record.examplesPerSec);
    metrics.epochDuration.observe({ backend }, event.record.durationMs / 1000);
    if (bytes !== undefined) metrics.tfjsBytes.set({ backend }, bytes);
  }

  /**
   * FailTask, retried while the coordinator is unreachable (bounded while draining). A drained
   * task is reported as interrupted: handed back at once, not counted against its attempts.
   */
  private async report(lease: TaskLease, reason: FailureReason, message: string, retryable: boolean): Promise<void> {
    const id = shortId(lease.taskId);
    this.o.metrics.trialFailures.inc({ reason });
    this.o.log(`task ${id} attempt ${lease.fencingToken}: failed (${reason}, ${retryable ? 'retryable' : 'not retryable'}): ${message.split('\n')[0]}`);
    try {
      const res = await this.o.retry.run('report', `reporting the failure of task ${id}`, () =>
        this.o.client.fail({ workerId: this.o.workerId(), taskId: lease.taskId, fencingToken: lease.fencingToken, error: message, retryable, interrupted: reason === 'drained' }),
      );
      if (res.willRetry) this.o.log(`task ${id}: the coordinator will retry it`);
    } catch (err) {
      this.o.log(`task ${id}: could not report the failure (${describeError(err)})`);
    }
  }
}
