/**
 * The worker's composition root: `startWorker` registers with the coordinator, leases trials
 * that fit, runs each in a child process (trial-process.ts), heartbeats progress, moves
 * checkpoints, and reports results; `drain` (SIGTERM) stops leasing and hands back what cannot
 * finish within the grace period.
 *
 * Worker lifecycle: 'registering' -> 'running' -> 'draining' -> 'stopped'.
 * Task lifecycle on this worker: 'fetching' (parent checkpoint) -> 'running' (child process)
 * -> 'reporting' (upload + CompleteTasks, batched with other results of the same turn / FailTask)
 * -> removed.
 */
import { createRequire } from 'node:module';
import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { describeError } from '../common/errors.js';
import type { ArtifactRef, TaskLease } from '../gen/npf/v1/sweep.js';
import type { TrialProgress } from '../science/types.js';
import { ArtifactCache, uploadCheckpoint } from './artifacts.js';
import { backoffDelay } from './backoff.js';
import { CompletionBatcher } from './completion-batcher.js';
import { CoordinatorClient, grpcCode, isTransient } from './coordinator-client.js';
import { ArtifactIntegrityError, WorkerAuthError } from './errors.js';
import { type FailureReason } from './failure.js';
import { startHttpEndpoints, type HttpEndpoints } from '../common/http-endpoints.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { ProgressBuffer } from './progress-buffer.js';
import { TrialProcess } from './trial-process.js';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './worker-options.js';

export type { WorkerOptions } from './worker-options.js';

export type WorkerState = 'registering' | 'running' | 'draining' | 'stopped';
export type TaskPhase = 'fetching' | 'running' | 'reporting';

export interface RunningWorker {
  /** Id the coordinator gave (changes if the worker must re-register after a coordinator restart). */
  readonly workerId: string;
  /** host:port of /metrics and /healthz, when served. */
  readonly httpAddress?: string;
  readonly state: WorkerState;
  /** Stop leasing; let running trials finish within drainGraceMs, kill and hand back the rest; then stop. */
  drain(): Promise<void>;
  /** Stop now: kill running trials, hand them back (retryable), stop. */
  stop(): Promise<void>;
  /** Resolves once the worker has stopped (after drain/stop, or a fatal error). */
  readonly closed: Promise<void>;
}

interface ActiveTask {
  lease: TaskLease;
  phase: TaskPhase;
  proc?: TrialProcess;
  backend: string;
  /** The coordinator asked to stop it (cancelled, or lease lost): report nothing. */
  cancelled: boolean;
  /** Killed because the worker is draining: hand back as retryable. */
  drained: boolean;
  done: Promise<void>;
}

function defaultChildScript(): string {
  const here = fileURLToPath(import.meta.url);
  // Under vitest this module runs from source; the child must be the compiled one.
  if (here.endsWith('.ts')) return join(dirname(here), '..', 'dist', 'worker', 'trial-child.js');
  return join(dirname(here), 'trial-child.js');
}

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const p of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(p) as { name?: string; version?: string };
      if (pkg.name === 'npf-sweep' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}

/** Training backends available in this installation (tfjs-node is optional and never required). */
export function detectBackends(): string[] {
  const require = createRequire(import.meta.url);
  const found = ['wasm', 'cpu'];
  for (const [pkg, name] of [['@tensorflow/tfjs-node', 'tensorflow'], ['@tensorflow/tfjs-node-gpu', 'tensorflow-gpu']] as const) {
    try {
      require.resolve(pkg);
      found.push(name);
    } catch {
      // not installed
    }
  }
  return found;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The server's own sentence of a gRPC error (without grpc-js' "14 UNAVAILABLE:" prefix). */
function detailOf(err: unknown): string {
  const details = (err as { details?: unknown } | null)?.details;
  return typeof details === 'string' && details ? details : describeError(err);
}

function short(taskId: string): string {
  return taskId.slice(0, 12);
}

class Worker implements RunningWorker {
  workerId = '';
  httpAddress?: string;
  state: WorkerState = 'registering';
  readonly closed: Promise<void>;

  private readonly o: ResolvedWorkerOptions;
  private readonly client: CoordinatorClient;
  private readonly cache: ArtifactCache;
  private readonly metrics: WorkerMetrics;
  private readonly registry: Registry;
  private readonly progress = new ProgressBuffer();
  private readonly active = new Map<string, ActiveTask>();
  private readonly childScript: string;
  private http?: HttpEndpoints;
  private heartbeatMs = 5000;
  private leaseCall?: { cancel(): void };
  private wakeLeaseLoop?: () => void;
  private heartbeatTimer?: NodeJS.Timeout;
  private registering?: Promise<void>;
  private failures = 0;
  private drainPromise?: Promise<void>;
  /** While draining, retries of reports and downloads give up at this time. */
  private drainDeadline = Infinity;
  private resolveClosed!: () => void;
  private leaseLoopDone: Promise<void> = Promise.resolve();
  /** Results ready in the same event-loop turn go out in one CompleteTasks call. */
  private readonly completions: CompletionBatcher;

  constructor(opts: WorkerOptions) {
    this.o = resolveWorkerOptions(opts);
    this.client = new CoordinatorClient({ address: this.o.coordinator, token: this.o.token, tls: this.o.tls });
    this.cache = new ArtifactCache(this.o.workDir);
    this.registry = opts.registry ?? new Registry();
    this.metrics = createWorkerMetrics(this.registry);
    this.childScript = opts.childScript ?? defaultChildScript();
    this.closed = new Promise((r) => (this.resolveClosed = r));
    // The worker id is read at each (re)send: a retry after re-registering carries the new one.
    this.completions = new CompletionBatcher({
      sendBatch: (items, leaseNext) =>
        this.withRetry(`reporting ${items.length} result(s)`, () =>
          this.client.completeMany({ items: items.map((i) => ({ ...i, workerId: this.workerId, leaseNext: 0 })), leaseNext }),
        ),
      sendOne: (item, leaseNext) =>
        this.withRetry(`reporting task ${short(item.taskId)}`, () => this.client.complete({ ...item, workerId: this.workerId, leaseNext })),
      // Ask for the next trial with the result (lease_next): the reported task still counts in
      // `active` until its answer, so no LeaseTasks in flight was sized for its slot, and the slot
      // passes straight to the new lease without a LeaseTasks round trip. Not while draining.
      leaseNextPerResult: () => (this.state === 'running' ? 1 : 0),
      onLeases: (leases) => this.acceptLeases(leases),
      onFallback: () => this.log('the coordinator has no CompleteTasks (an older version): reporting results one CompleteTask each'),
    });
  }

  private log(line: string): void {
    this.o.log(`npf worker${this.workerId ? ` ${this.workerId}` : ''}: ${line}`);
  }

  // ---- connectivity -------------------------------------------------------------------------

  /** Record a transient failure and wait the backoff delay, logging where and why. */
  private async unreachable(err: unknown, doing: string): Promise<void> {
    this.failures++;
    const delay = backoffDelay(this.failures, this.o.backoff, 0.75 + Math.random() * 0.25);
    this.log(`coordinator at ${this.o.coordinator} unreachable while ${doing} (${grpc.status[grpcCode(err) ?? -1] ?? 'ERROR'}: ${detailOf(err)}); retry ${this.failures} in ${(delay / 1000).toFixed(1)} s`);
    await sleep(delay);
  }

  private reachable(): void {
    if (this.failures > 0) this.log(`coordinator at ${this.o.coordinator} reachable again after ${this.failures} failed attempt(s)`);
    this.failures = 0;
  }

  /**
   * Run `fn` until it succeeds: transient errors wait the backoff; an unknown worker id
   * (a coordinator that lost its worker table) re-registers; anything else is thrown.
   * While draining, retrying stops at `drainDeadline` so the worker can exit.
   */
  private async withRetry<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        const res = await fn();
        this.reachable();
        return res;
      } catch (err) {
        const code = grpcCode(err);
        if (code === grpc.status.UNAUTHENTICATED) throw new WorkerAuthError(this.o.coordinator, detailOf(err));
        if (code === grpc.status.NOT_FOUND && /worker/i.test(describeError(err)) && this.state !== 'stopped') {
          await this.register(true);
          continue;
        }
        if (!isTransient(err) || Date.now() >= this.drainDeadline) throw err;
        await this.unreachable(err, doing);
      }
    }
  }

  // ---- registration -------------------------------------------------------------------------

  private register(again = false): Promise<void> {
    if (this.registering) return this.registering;
    this.registering = (async () => {
      const res = await this.withRetryRegister();
      const previous = this.workerId;
      this.workerId = res.workerId;
      this.heartbeatMs = Math.max(100, Math.min(res.heartbeatIntervalMs || 5000, (res.leaseTtlMs || 30_000) / 2));
      this.log(
        again
          ? `re-registered with ${this.o.coordinator} (was ${previous}); still running ${this.active.size} trial(s)`
          : `registered with ${this.o.coordinator}: cpu ${this.o.resources.cpu}, gpu ${this.o.resources.gpu}, memory ${this.o.resources.memoryMb} MiB, concurrency ${this.o.concurrency}`,
      );
    })().finally(() => (this.registering = undefined));
    return this.registering;
  }

  private async withRetryRegister() {
    for (;;) {
      try {
        const res = await this.client.register({
          hostname: hostname(),
          resources: { cpu: this.o.resources.cpu, gpu: this.o.resources.gpu, memoryMb: this.o.resources.memoryMb },
          backends: this.o.backend && this.o.backend !== 'auto' ? [this.o.backend] : detectBackends(),
          version: packageVersion(),
        });
        this.reachable();
        return res;
      } catch (err) {
        if (grpcCode(err) === grpc.status.UNAUTHENTICATED) throw new WorkerAuthError(this.o.coordinator, detailOf(err));
        if (!isTransient(err) || this.state === 'stopped') throw err;
        await this.unreachable(err, 'registering');
      }
    }
  }

  // ---- start / loops ------------------------------------------------------------------------

  async start(): Promise<void> {
    await mkdir(this.o.workDir, { recursive: true });
    if (this.o.httpListen) {
      this.http = await startHttpEndpoints(this.o.httpListen, this.registry, { healthy: () => this.state !== 'stopped' });
      this.httpAddress = this.http.address;
    }
    try {
      await this.register();
    } catch (err) {
      await this.shutdown();
      throw err;
    }
    this.state = 'running';
    this.scheduleHeartbeat();
    this.leaseLoopDone = this.leaseLoop().catch((err: unknown) => this.fatal(err));
  }

  private fatal(err: unknown): void {
    this.log(`stopping: ${describeError(err)}`);
    void this.stop();
  }

  private freeSlots(): number {
    return this.o.concurrency - this.active.size;
  }

  private async leaseLoop(): Promise<void> {
    while (this.state === 'running') {
      if (this.freeSlots() <= 0) {
        await new Promise<void>((r) => (this.wakeLeaseLoop = r));
        continue;
      }
      const call = this.client.lease({ workerId: this.workerId, maxTasks: this.freeSlots(), waitMs: this.o.leaseWaitMs }, this.o.leaseWaitMs + 15_000);
      this.leaseCall = call;
      try {
        const res = await call.promise;
        this.reachable();
        this.acceptLeases(res.leases);
      } catch (err) {
        if (this.state !== 'running') break;
        const code = grpcCode(err);
        if (code === grpc.status.UNAUTHENTICATED) throw new WorkerAuthError(this.o.coordinator, detailOf(err));
        if (code === grpc.status.NOT_FOUND) {
          await this.register(true);
        } else if (isTransient(err)) {
          await this.unreachable(err, 'leasing tasks');
        } else {
          this.log(`lease request refused (${grpc.status[code ?? -1] ?? 'ERROR'}: ${detailOf(err)}); retrying`);
          await this.unreachable(err, 'leasing tasks');
        }
      } finally {
        this.leaseCall = undefined;
      }
    }
  }

  /** Start leased tasks (from LeaseTasks or CompleteTask's next_leases); hand them back when draining. */
  private acceptLeases(leases: readonly TaskLease[]): void {
    for (const lease of leases) {
      if (this.state !== 'running') {
        // Leased while draining began: hand it straight back.
        void this.report(lease, 'drained', 'worker is draining; the task was not started', true);
        continue;
      }
      this.startTask(lease);
    }
  }

  private scheduleHeartbeat(): void {
    if (this.state === 'stopped') return;
    this.heartbeatTimer = setTimeout(() => {
      void this.heartbeat().finally(() => this.scheduleHeartbeat());
    }, this.heartbeatMs);
  }

  private async heartbeat(): Promise<void> {
    if (!this.workerId || this.state === 'stopped') return;
    const snap = this.progress.snapshot();
    try {
      const res = await this.client.heartbeat({
        workerId: this.workerId,
        draining: this.state === 'draining',
        tasks: snap.map((s) => ({ taskId: s.taskId, fencingToken: s.fencingToken, epoch: s.epoch, epochsJson: JSON.stringify(s.records) })),
      });
      this.reachable();
      this.progress.acknowledge(snap);
      for (const id of res.cancelTaskIds) this.cancelTask(id);
    } catch (err) {
      const code = grpcCode(err);
      if (code === grpc.status.UNAUTHENTICATED) return this.fatal(new WorkerAuthError(this.o.coordinator, detailOf(err)));
      if (code === grpc.status.NOT_FOUND) {
        await this.register(true).catch((e: unknown) => this.log(`re-register failed: ${describeError(e)}`));
        return;
      }
      // Records stay in the buffer and go with the next beat; the lease loop logs the outage.
      if (!isTransient(err)) this.log(`heartbeat refused (${grpc.status[code ?? -1]}: ${detailOf(err)})`);
    }
  }

  private cancelTask(taskId: string): void {
    const t = this.active.get(taskId);
    // A task already reporting has its result: the cancel is the coordinator seeing it complete.
    if (!t || t.cancelled || t.phase === 'reporting') return;
    t.cancelled = true;
    this.log(`task ${short(taskId)}: cancelled by the coordinator; stopping its trial`);
    void t.proc?.stop(this.o.killGraceMs);
  }

  // ---- one task -----------------------------------------------------------------------------

  private startTask(lease: TaskLease): void {
    const task: ActiveTask = { lease, phase: 'fetching', backend: 'unknown', cancelled: false, drained: false, done: Promise.resolve() };
    this.active.set(lease.taskId, task);
    this.progress.track(lease.taskId, lease.fencingToken);
    task.done = this.runTask(task)
      .catch((err: unknown) => this.log(`task ${short(lease.taskId)}: ${describeError(err)}`))
      .finally(() => {
        this.active.delete(lease.taskId);
        this.progress.untrack(lease.taskId);
        this.metrics.trialsRunning.set([...this.active.values()].filter((t) => t.phase === 'running').length);
        this.wakeLeaseLoop?.();
        this.wakeLeaseLoop = undefined;
      });
  }

  private taskDir(lease: TaskLease): string {
    return join(this.o.workDir, 'tasks', `${lease.taskId.slice(0, 16)}-a${lease.fencingToken}`);
  }

  private async runTask(task: ActiveTask): Promise<void> {
    const { lease } = task;
    const dir = this.taskDir(lease);
    let spec: Record<string, unknown>;
    try {
      spec = JSON.parse(lease.specJson) as Record<string, unknown>;
      if (typeof spec !== 'object' || spec === null) throw new Error('not an object');
    } catch (err) {
      return this.report(lease, 'invalid', `the task's spec_json is not a JSON object (${describeError(err)})`, false);
    }
    if (lease.gatesFrom?.sha256) {
      try {
        const ref = lease.gatesFrom;
        const path = await this.withRetry(`downloading checkpoint ${ref.sha256.slice(0, 12)}`, () => this.cache.fetch(this.client, ref));
        spec.gatesFrom = { path, sha256: ref.sha256 };
      } catch (err) {
        if (task.cancelled) return;
        const deterministic = err instanceof ArtifactIntegrityError || grpcCode(err) === grpc.status.NOT_FOUND;
        return this.report(lease, 'artifact', `could not get the parent checkpoint ${lease.gatesFrom.name} (${lease.gatesFrom.sha256.slice(0, 12)}...): ${describeError(err)}`, !deterministic);
      }
    }
    if (task.cancelled) return;
    if (this.state !== 'running') return this.report(lease, 'drained', 'worker is draining; the task was not started', true);
    if (this.o.backend && this.o.backend !== 'auto' && (spec.backend === undefined || spec.backend === 'auto')) spec.backend = this.o.backend;

    const env: NodeJS.ProcessEnv = { ...this.o.childEnv };
    if (lease.gpuIndex >= 0) env.CUDA_VISIBLE_DEVICES = String(lease.gpuIndex);
    else if (this.o.resources.gpu > 0) env.CUDA_VISIBLE_DEVICES = '';
    const memoryMb = lease.resources?.memoryMb ?? 0;
    await mkdir(join(dir, 'checkpoints'), { recursive: true });
    task.phase = 'running';
    task.backend = typeof spec.backend === 'string' ? spec.backend : 'auto';
    const proc = new TrialProcess({
      childScript: this.childScript,
      spec,
      checkpointDir: join(dir, 'checkpoints'),
      env,
      maxOldSpaceMb: memoryMb >= 512 ? memoryMb : undefined,
      onProgress: (event, bytes) => this.onProgress(task, event, bytes),
    });
    task.proc = proc;
    this.metrics.trialsRunning.set([...this.active.values()].filter((t) => t.phase === 'running').length);
    this.log(`task ${short(lease.taskId)} attempt ${lease.fencingToken}: started (pid ${proc.pid})`);
    const outcome = await proc.done;
    task.phase = 'reporting';
    this.metrics.trialsRunning.set([...this.active.values()].filter((t) => t.phase === 'running').length);

    try {
      if (task.cancelled) {
        this.log(`task ${short(lease.taskId)}: stopped (cancelled by the coordinator)`);
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
          artifacts.push(await this.withRetry(`uploading checkpoint ${cp.name} of task ${short(lease.taskId)}`, () => uploadCheckpoint(this.client, lease.taskId, lease.fencingToken, cp)));
        } catch (err) {
          if (err instanceof ArtifactIntegrityError) return await this.report(lease, 'artifact', `checkpoint ${cp.name}: ${err.message}`, true);
          throw err;
        }
      }
      // Results ready in the same turn share one CompleteTasks call (completion-batcher.ts);
      // the leases granted with it (lease_next) start from there.
      await this.completions.submit({ workerId: this.workerId, taskId: lease.taskId, fencingToken: lease.fencingToken, resultJson: JSON.stringify(result), artifacts });
      this.log(`task ${short(lease.taskId)} attempt ${lease.fencingToken}: ${result.status}, best test accuracy ${(result.bestTestAccuracy * 100).toFixed(2)}% at epoch ${result.bestEpoch}`);
    } catch (err) {
      const code = grpcCode(err);
      this.log(`task ${short(lease.taskId)}: the coordinator refused the report (${grpc.status[code ?? -1] ?? 'ERROR'}: ${detailOf(err)}); dropping it`);
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private onProgress(task: ActiveTask, event: TrialProgress, bytes?: number): void {
    if (event.kind === 'started') task.backend = event.backend;
    if (event.kind !== 'epoch') return;
    this.progress.add(task.lease.taskId, event.record);
    const backend = task.backend;
    this.metrics.examplesPerSecond.set({ backend }, event.record.examplesPerSec);
    this.metrics.epochDuration.observe({ backend }, event.record.durationMs / 1000);
    if (bytes !== undefined) this.metrics.tfjsBytes.set({ backend }, bytes);
  }

  /** FailTask, retried while the coordinator is unreachable (bounded while draining). */
  private async report(lease: TaskLease, reason: FailureReason, message: string, retryable: boolean): Promise<void> {
    this.metrics.trialFailures.inc({ reason });
    this.log(`task ${short(lease.taskId)} attempt ${lease.fencingToken}: failed (${reason}, ${retryable ? 'retryable' : 'not retryable'}): ${message.split('\n')[0]}`);
    try {
      const res = await this.withRetry(`reporting the failure of task ${short(lease.taskId)}`, () =>
        this.client.fail({ workerId: this.workerId, taskId: lease.taskId, fencingToken: lease.fencingToken, error: message, retryable }),
);
      if (res.willRetry) this.log(`task ${short(lease.taskId)}: the coordinator will retry it`);
    } catch (err) {
      this.log(`task ${short(lease.taskId)}: could not report the failure (${describeError(err)})`);
    }
  }

  // ---- drain / stop -------------------------------------------------------------------------

  drain(graceMs = this.o.drainGraceMs): Promise<void> {
    if (this.drainPromise) return this.drainPromise;
    this.drainPromise = (async () => {
      if (this.state === 'running' || this.state === 'registering') this.state = 'draining';
      this.drainDeadline = Date.now() + graceMs + Math.max(2000, this.o.killGraceMs);
      this.leaseCall?.cancel();
      this.wakeLeaseLoop?.();
      await Promise.race([this.leaseLoopDone, sleep(1000)]);
      const running = [...this.active.values()];
      this.log(`draining: no new tasks; ${running.length} trial(s) running, ${Math.round(graceMs / 1000)} s to finish`);
      await Promise.race([this.heartbeat(), sleep(2000)]); // tells the coordinator we are draining
      const all = Promise.all(running.map((t) => t.done));
      const timedOut = await Promise.race([all.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) {
        const left = [...this.active.values()];
        this.log(`drain grace over: stopping ${left.length} trial(s) and handing them back`);
        for (const t of left) {
          t.drained = true;
          void t.proc?.stop(this.o.killGraceMs);
        }
        await Promise.all(left.map((t) => t.done));
      }
      await this.shutdown();
    })();
    return this.drainPromise;
  }

  stop(): Promise<void> {
    if (!this.drainPromise) return this.drain(0);
    for (const t of this.active.values()) {
      t.drained = true;
      void t.proc?.stop(this.o.killGraceMs);
    }
    return this.drainPromise;
  }

  private async shutdown(): Promise<void> {
    this.state = 'stopped';
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    await this.http?.close();
    this.client.close();
    this.log('stopped');
    this.resolveClosed();
  }
}

/** Start a worker (see notes/runtime-contract.md). Resolves once registered with the coordinator. */
export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const w = new Worker(opts);
  await w.start();
  return w;
}
