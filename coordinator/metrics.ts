/**
 * The coordinator's Prometheus metrics (names in deploy/metrics-contract.ts, docs/runtime-contract.md), registered on a
 * Registry passed in, never prom-client's global one. Gauges read the current state from the
 * store when scraped (collect), so they cannot drift from it; counters and histograms are fed by
 * the core through the CoreObserver hooks.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CoreObserver } from './core/types.js';
import type { SweepCoordinator } from './sweep-coordinator.js';
import { TASK_STATES } from './task-state.js';

/** 0.1..1.0 step 0.05, plus the fine buckets near the paper's MNIST numbers. */
export const ACCURACY_BUCKETS: readonly number[] = [
  ...Array.from({ length: 19 }, (_, i) => Math.round((0.1 + 0.05 * i) * 100) / 100),
  0.96,
  0.97,
  0.98,
  0.99,
].sort((a, b) => a - b);

export class CoordinatorMetrics implements CoreObserver {
  readonly grpcRequests: Counter<'method' | 'code'>;
  private readonly leasesGranted: Counter;
  private readonly bundlesGranted: Counter;
  private readonly leasesExpired: Counter;
  private readonly retries: Counter;
  private readonly taskDuration: Histogram<'regime'>;
  private readonly epochDuration: Histogram;
  private readonly bestAccuracy: Histogram<'sweep' | 'regime'>;
  private core?: SweepCoordinator;
  private readonly requestCounters = new Map<string, { inc(): void }>();

  constructor(registry: Registry) {
    const registers = [registry];
    const self = (): SweepCoordinator | undefined => this.core;
    new Gauge({
      name: 'npf_tasks',
      help: 'Tasks by lifecycle state, over all sweeps.',
      labelNames: ['state'],
      registers,
      collect() {
        const core = self();
        if (!core) return;
        const counts = core.taskCounts();
        for (const s of TASK_STATES) this.set({ state: s }, counts[s]);
      },
    });
    this.leasesGranted = new Counter({ name: 'npf_leases_granted_total', help: 'Leases granted to workers (every member of a bundle counts).', registers });
    this.bundlesGranted = new Counter({ name: 'npf_bundles_granted_total', help: 'Bundles granted to workers: fused trials leased to train as one stacked process.', registers });
    this.leasesExpired = new Counter({ name: 'npf_leases_expired_total', help: 'Leases that expired without a heartbeat.', registers });
    this.retries = new Counter({ name: 'npf_task_retries_total', help: 'Failed attempts requeued for another try.', registers });
    this.taskDuration = new Histogram({
      name: 'npf_task_duration_seconds',
      help: 'Time from lease to completion of a task.',
      labelNames: ['regime'],
      buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400],
      registers,
    });
    this.epochDuration = new Histogram({
      name: 'npf_epoch_duration_seconds',
      help: 'Duration of one training epoch, from worker progress reports.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    new Gauge({
      name: 'npf_workers_connected',
      help: 'Workers seen within one lease TTL.',
      registers,
      collect() {
        const core = self();
        if (core) this.set(core.liveWorkers().length);
      },
    });
    new Gauge({
      name: 'npf_resource_capacity',
      help: 'Resources offered by live workers (cpu cores, gpu devices, memory MiB).',
      labelNames: ['resource'],
      registers,
      collect() {
        const core = self();
        if (!core) return;
        const ws = core.liveWorkers();
        this.set({ resource: 'cpu' }, ws.reduce((a, w) => a + w.cpu, 0));
        this.set({ resource: 'gpu' }, ws.reduce((a, w) => a + w.gpu, 0));
        this.set({ resource: 'memory_mb' }, ws.reduce((a, w) => a + w.memoryMb, 0));
      },
    });
    new Gauge({
      name: 'npf_resource_used',
      help: 'Resources held by leased and running tasks.',
      labelNames: ['resource'],
      registers,
      collect() {
        const core = self();
        if (!core) return;
        const u = core.usedResources();
        this.set({ resource: 'cpu' }, u.cpu);
        this.set({ resource: 'gpu' }, u.gpu);
        this.set({ resource: 'memory_mb' }, u.memoryMb);
      },
    });
    const sweepGauge = (name: string, help: string, pick: (info: ReturnType<SweepCoordinator['getSweep']>) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['sweep'],
        registers,
        collect() {
          const core = self();
          if (!core) return;
          this.reset();
          for (const s of core.listSweeps()) this.set({ sweep: s.sweepId }, pick(s));
        },
      });
    };
    sweepGauge('npf_sweep_cells_complete', 'Table cells of a sweep with every seed finished.', (s) => s.cellsComplete);
    sweepGauge('npf_sweep_cells_total', 'Table cells of a sweep.', (s) => s.cellsTotal);
    new Gauge({
      name: 'npf_sweep_tasks',
      help: "A sweep's tasks by state.",
      labelNames: ['sweep', 'state'],
      registers,
      collect() {
        const core = self();
        if (!core) return;
        this.reset();
        for (const s of core.listSweeps()) {
          const counts = s.counts ?? {};
          for (const st of TASK_STATES) this.set({ sweep: s.sweepId, state: st }, (counts as Record<string, number>)[st] ?? 0);
        }
      },
    });
    this.bestAccuracy = new Histogram({
      name: 'npf_trial_best_test_accuracy',
      help: 'Best test accuracy of finished trials (the paper metric).',
      labelNames: ['sweep', 'regime'],
      buckets: [...ACCURACY_BUCKETS],
      registers,
    });
    this.grpcRequests = new Counter({
      name: 'npf_grpc_requests_total',
      help: 'gRPC requests by method and status code.',
      labelNames: ['method', 'code'],
      registers,
    });
    new Counter({ name: 'npf_nats_disconnects_total', help: 'Disconnections from NATS (event fan-out).', registers });
    new Counter({ name: 'npf_nats_events_dropped_total', help: 'Events not published to NATS.', registers });
  }

  /** Attach the core whose state the gauges read. */
  attach(core: SweepCoordinator): void {
    this.core = core;
  }

  leaseGranted(n: number, bundles = 0): void {
    this.leasesGranted.inc(n);
    if (bundles > 0) this.bundlesGranted.inc(bundles);
  }
  leaseExpired(n: number): void {
    this.leasesExpired.inc(n);
  }
  taskRetried(): void {
    this.retries.inc();
  }
  taskFinished(regime: string, seconds: number): void {
    this.taskDuration.observe({ regime }, seconds);
  }
  epochObserved(seconds: number): void {
    this.epochDuration.observe(seconds);
  }
  trialResult(sweepId: string, regime: string, bestTestAccuracy: number): void {
    this.bestAccuracy.observe({ sweep: sweepId, regime }, bestTestAccuracy);
  }

  /** Count one finished rpc (`code` is the status's name, e.g. 'OK', 'NOT_FOUND'). */
  countRequest(method: string, code: string): void {
    // Labelled children cached: label hashing per call is measurable at thousands of calls/s.
    const key = `${method}/${code}`;
    let c = this.requestCounters.get(key);
    if (!c) {
      c = this.grpcRequests.labels({ method, code });
      this.requestCounters.set(key, c);
    }
    c.inc();
  }
}
