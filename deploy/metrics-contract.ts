/**
 * The Prometheus metric names of the runtime contract (coordinator and worker), as the deploy
 * artefacts (alert rules, Grafana dashboard) may use them. Tests check every metric those
 * artefacts name against this list, so a renamed metric shows up as a failing test rather than
 * an empty panel.
 */

/** Prometheus metric types used by the contract. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One contract metric: name (as registered in prom-client), type, labels and which process exports it. */
export interface ContractMetric {
  name: string;
  type: MetricType;
  labels: readonly string[];
  exporter: 'coordinator' | 'worker';
}

/** Scrape job names the rules and dashboard rely on (nats: the NATS exporter sidecar). */
export const SCRAPE_JOBS = { coordinator: 'npf-coordinator', worker: 'npf-worker', nats: 'npf-nats' } as const;

export const CONTRACT_METRICS: readonly ContractMetric[] = [
  { name: 'npf_tasks', type: 'gauge', labels: ['state'], exporter: 'coordinator' },
  { name: 'npf_leases_granted_total', type: 'counter', labels: [], exporter: 'coordinator' },
  { name: 'npf_bundles_granted_total', type: 'counter', labels: [], exporter: 'coordinator' },
  { name: 'npf_leases_expired_total', type: 'counter', labels: [], exporter: 'coordinator' },
  { name: 'npf_task_retries_total', type: 'counter', labels: [], exporter: 'coordinator' },
  { name: 'npf_task_duration_seconds', type: 'histogram', labels: ['regime'], exporter: 'coordinator' },
  { name: 'npf_epoch_duration_seconds', type: 'histogram', labels: [], exporter: 'coordinator' },
  { name: 'npf_workers_connected', type: 'gauge', labels: [], exporter: 'coordinator' },
  { name: 'npf_resource_capacity', type: 'gauge', labels: ['resource'], exporter: 'coordinator' },
  { name: 'npf_resource_used', type: 'gauge', labels: ['resource'], exporter: 'coordinator' },
  { name: 'npf_sweep_cells_complete', type: 'gauge', labels: ['sweep'], exporter: 'coordinator' },
  { name: 'npf_sweep_cells_total', type: 'gauge', labels: ['sweep'], exporter: 'coordinator' },
  { name: 'npf_sweep_tasks', type: 'gauge', labels: ['sweep', 'state'], exporter: 'coordinator' },
  { name: 'npf_trial_best_test_accuracy', type: 'histogram', labels: ['sweep', 'regime'], exporter: 'coordinator' },
  { name: 'npf_grpc_requests_total', type: 'counter', labels: ['method', 'code'], exporter: 'coordinator' },
  { name: 'npf_nats_disconnects_total', type: 'counter', labels: [], exporter: 'coordinator' },
  { name: 'npf_nats_events_dropped_total', type: 'counter', labels: [], exporter: 'coordinator' },
  { name: 'npf_worker_trials_running', type: 'gauge', labels: [], exporter: 'worker' },
  { name: 'npf_worker_bundles_running', type: 'gauge', labels: [], exporter: 'worker' },
  { name: 'npf_worker_examples_per_second', type: 'gauge', labels: ['backend'], exporter: 'worker' },
  { name: 'npf_worker_epoch_duration_seconds', type: 'histogram', labels: ['backend'], exporter: 'worker' },
  { name: 'npf_worker_tfjs_bytes', type: 'gauge', labels: ['backend'], exporter: 'worker' },
  { name: 'npf_worker_trial_failures_total', type: 'counter', labels: ['reason'], exporter: 'worker' },
];

/**
 * Every series name a query may use for the contract metrics: histograms expose
 * `<name>_bucket`, `<name>_sum` and `<name>_count`, not `<name>` itself.
 */
export function contractSeriesNames(metrics: readonly ContractMetric[] = CONTRACT_METRICS): Set<string> {
  const names = new Set<string>();
  for (const m of metrics) {
    if (m.type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(m.name + suffix);
    } else {
      names.add(m.name);
    }
  }
  return names;
}

/**
 * Series of the NATS exporter (natsio/prometheus-nats-exporter 0.17, run with -varz -connz
 * -jsz=streams; job npf-nats) that the dashboard and rules may use. Names as the exporter builds
 * them: `gnatsd_varz_<field of /varz>` and, from its jsz collector, `jetstream_server_*` and
 * `jetstream_stream_*` (stream series labelled stream_name). No exporter binary is available
 * offline, so unlike the npf metrics these are not scraped in a test.
 */
export const NATS_EXPORTER_METRICS: readonly { name: string; labels: readonly string[] }[] = [
  { name: 'gnatsd_varz_connections', labels: ['server_id'] },
  { name: 'gnatsd_varz_in_msgs', labels: ['server_id'] },
  { name: 'gnatsd_varz_slow_consumers', labels: ['server_id'] },
  { name: 'jetstream_server_max_storage', labels: ['server_id', 'server_name'] },
  { name: 'jetstream_server_total_message_bytes', labels: ['server_id', 'server_name'] },
  { name: 'jetstream_stream_total_bytes', labels: ['server_id', 'server_name', 'stream_name'] },
  { name: 'jetstream_stream_total_messages', labels: ['server_id', 'server_name', 'stream_name'] },
];

/** The NATS exporter series an expression names (`gnatsd_...`, `jetstream_...`). */
export function natsExporterMetricNamesIn(expr: string): string[] {
  return [...new Set(expr.match(/(?<![A-Za-z0-9_:])(?:gnatsd|jetstream)_[a-z0-9_]+(?![A-Za-z0-9_:])/g) ?? [])];
}
