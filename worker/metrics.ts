/**
 * The worker's Prometheus metrics (names fixed by deploy/metrics-contract.ts, docs/runtime-contract.md), registered on a
 * Registry passed in by the composition root, never prom-client's global one.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WorkerMetrics {
  trialsRunning: Gauge;
  bundlesRunning: Gauge;
  examplesPerSecond: Gauge<'backend'>;
  epochDuration: Histogram<'backend'>;
  tfjsBytes: Gauge<'backend'>;
  trialFailures: Counter<'reason'>;
}

export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  return {
    trialsRunning: new Gauge({ name: 'npf_worker_trials_running', help: 'Trials this worker is running now (every member of a bundle counts)', registers: [registry] }),
    bundlesRunning: new Gauge({ name: 'npf_worker_bundles_running', help: 'Bundles of fused trials (stacked processes) this worker is running now', registers: [registry] }),
    examplesPerSecond: new Gauge({ name: 'npf_worker_examples_per_second', help: 'Training throughput of the last finished epoch', labelNames: ['backend'], registers: [registry] }),
    epochDuration: new Histogram({
      name: 'npf_worker_epoch_duration_seconds',
      help: 'Wall time of one training epoch',
      labelNames: ['backend'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    tfjsBytes: new Gauge({ name: 'npf_worker_tfjs_bytes', help: 'Bytes held by TensorFlow.js tensors in the last trial that reported', labelNames: ['backend'], registers: [registry] }),
    trialFailures: new Counter({ name: 'npf_worker_trial_failures_total', help: 'Trials that failed on this worker, by reason', labelNames: ['reason'], registers: [registry] }),
  };
}
