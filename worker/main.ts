/**
 * The worker's composition root: `startWorker` wires the pieces, registers with the coordinator,
 * then runs the lease loop and the heartbeats until drain or stop.
 *
 *   registration.ts   RegisterWorker, re-registering when the coordinator forgot this worker
 *   lease-loop.ts     LeaseTasks long-poll while there are free slots
 *   task-pipeline.ts  one task: parent checkpoint, child process, upload, report
 *   heartbeats.ts     progress, draining flag, cancels
 *   drain.ts          SIGTERM: no new leases, grace period, hand back the rest
 *   worker-retry.ts   what to do when a coordinator call fails (classify in coordinator-client.ts)
 *
 * Worker lifecycle: 'registering' -> 'running' -> 'draining' -> 'stopped'.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describeError } from '../common/errors.js';
import { startHttpEndpoints, type HttpEndpoints } from '../common/http-endpoints.js';
import { ActiveTasks } from './active-tasks.js';
import { ArtifactCache } from './artifacts.js';
import { CoordinatorClient } from './coordinator-client.js';
import { drainTasks, handBackAll } from './drain.js';
import { probeGpus, type GpuInventory } from './gpu-inventory.js';
import { Heartbeats } from './heartbeats.js';
import { LeaseLoop } from './lease-loop.js';
import { createWorkerMetrics } from './metrics.js';
import { ProgressBuffer } from './progress-buffer.js';
import { Registration } from './registration.js';
import { TaskPipeline } from './task-pipeline.js';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './worker-options.js';
import { WorkerRetry } from './worker-retry.js';

export type { WorkerOptions } from './worker-options.js';
export type { TaskPhase } from './active-tasks.js';
export { detectBackends } from './registration.js';

export type WorkerState = 'registering' | 'running' | 'draining' | 'stopped';

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

function defaultChildScript(name = 'trial-child.js'): string {
  const here = fileURLToPath(import.meta.url);
  // Under vitest this module runs from source; the child must be the compiled one.
  if (here.endsWith('.ts')) return join(dirname(here), '..', 'dist', 'worker', name);
  return join(dirname(here), name);
}

class Worker implements RunningWorker {
  httpAddress?: string;
  state: WorkerState = 'registering';
  readonly closed: Promise<void>;

  private readonly o: ResolvedWorkerOptions;
  private readonly client: CoordinatorClient;
  private readonly registry: Registry;
  private readonly tasks: ActiveTasks;
  private readonly retry: WorkerRetry;
  private readonly registration: Registration;
  private readonly pipeline: TaskPipeline;
  private readonly heartbeats: Heartbeats;
  private leaseLoop?: LeaseLoop;
  private http?: HttpEndpoints;
  private drainPromise?: Promise<void>;
  /** While draining, retries of reports and downloads give up at this time. */
  private drainDeadline = Infinity;
  private resolveClosed!: () => void;
  private readonly gpuInventory: () => Promise<GpuInventory>;
  /** What the GPU probe found (when resources.gpu was not given). */
  private gpus?: GpuInventory;

  constructor(opts: WorkerOptions) {
    const o = (this.o = resolveWorkerOptions(opts));
    this.client = new CoordinatorClient({ address: o.coordinator, token: o.token, tls: o.tls });
    this.registry = opts.registry ?? new Registry();
    this.closed = new Promise((r) => (this.resolveClosed = r));
    const metrics = createWorkerMetrics(this.registry);
    const progress = new ProgressBuffer();
    const log = (line: string) => this.log(line);
    const workerId = () => this.workerId;
    const isRunning = () => this.state === 'running';
    this.tasks = new ActiveTasks(o.concurrency);
    const retry = (this.retry = new WorkerRetry({
      coordinator: o.coordinator,
      backoff: o.backoff,
      log,
      reregister: () => this.registration.register(true),
      givingUp: () => this.state === 'stopped' || Date.now() >= this.drainDeadline,
    }));
    this.gpuInventory = opts.gpuInventory ?? (() => probeGpus(defaultChildScript('gpu-probe-child.js'), o.childEnv));
    this.registration = new Registration({ client: this.client, retry, options: o, log, running: () => this.tasks.size, gpus: () => this.gpus });
    this.pipeline = new TaskPipeline({
      options: o,
      childScript: opts.childScript ?? defaultChildScript(),
      client: this.client,
      retry,
      cache: new ArtifactCache(o.workDir),
      metrics,
      progress,
      tasks: this.tasks,
      workerId,
      isRunning,
      log,
    });
    this.heartbeats = new Heartbeats({
      client: this.client,
      retry,
      progress,
      workerId,
      intervalMs: () => this.registration.heartbeatMs,
      draining: () => this.state === 'draining',
      stopped: () => this.state === 'stopped',
      onCancel: (id) => this.pipeline.cancel(id),
      onFatal: (err) => this.fatal(err),
    });
  }

  get workerId(): string {
    return this.registration.workerId;
  }

  private log(line: string): void {
    this.o.log(`npf worker${this.workerId ? ` ${this.workerId}` : ''}: ${line}`);
  }

  async start(): Promise<void> {
    await mkdir(this.o.workDir, { recursive: true });
    if (this.o.detectGpus) {
      // A worker pinned to a CPU backend offers no GPU and does not look for one.
      const cpuOnly = this.o.backend === 'wasm' || this.o.backend === 'wasm-blas' || this.o.backend === 'cpu' || this.o.backend === 'tensorflow';
      this.gpus = cpuOnly ? { count: 0, names: [], webgpu: false, note: `--backend ${this.o.backend} uses no GPU` } : await this.gpuInventory();
      this.o.resources.gpu = this.gpus.count;
    }
    if (this.o.httpListen) {
      this.http = await startHttpEndpoints(this.o.httpListen, this.registry, { healthy: () => this.state !== 'stopped' });
      this.httpAddress = this.http.address;
    }
    try {
      await this.registration.register();
    } catch (err) {
      await this.shutdown();
      throw err;
    }
    this.state = 'running';
    this.heartbeats.start();
    this.leaseLoop = new LeaseLoop({
      client: this.client,
      retry: this.retry,
      tasks: this.tasks,
      leaseWaitMs: this.o.leaseWaitMs,
      workerId: () => this.workerId,
      isRunning: () => this.state === 'running',
      onLeases: (leases) => this.pipeline.accept(leases),
    });
    this.leaseLoop.done.catch((err: unknown) => this.fatal(err));
  }

  private fatal(err: unknown): void {
    this.log(`stopping: ${describeError(err)}`);
    void this.stop();
  }

  drain(graceMs = this.o.drainGraceMs): Promise<void> {
    if (this.drainPromise) return this.drainPromise;
    this.drainPromise = (async () => {
      if (this.state === 'running' || this.state === 'registering') this.state = 'draining';
      this.drainDeadline = Date.now() + graceMs + Math.max(2000, this.o.killGraceMs);
      await drainTasks({
        tasks: this.tasks,
        graceMs,
        killGraceMs: this.o.killGraceMs,
        stopLeasing: async () => {
          this.leaseLoop?.stop();
          await this.leaseLoop?.done.catch(() => undefined);
        },
        tellCoordinator: () => this.heartbeats.beat(),
        log: (line) => this.log(line),
      });
      await this.shutdown();
    })();
    return this.drainPromise;
  }

  stop(): Promise<void> {
    if (!this.drainPromise) return this.drain(0);
    handBackAll(this.tasks, this.o.killGraceMs);
    return this.drainPromise;
  }

  private async shutdown(): Promise<void> {
    this.state = 'stopped';
    this.heartbeats.stop();
    await this.http?.close();
    this.client.close();
    this.log('stopped');
    this.resolveClosed();
  }
}

/** Start a worker (options: worker-options.ts). Resolves once registered with the coordinator. */
export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const w = new Worker(opts);
  await w.start();
  return w;
}
