/**
 * The npf-sweep Grafana dashboard: sweep progress, throughput, epoch durations, failures and
 * retries, workers and slot use, events (NATS), and the test accuracy of finished trials.
 * `npm run gen:dashboard` writes it to deploy/grafana/npf-sweep.json; a test checks that the
 * committed JSON equals this function's output.
 * Metric names are the runtime contract's (deploy/metrics-contract.ts).
 */
import { DashboardBuilder, datasourceVariable, labelValuesVariable, type Dashboard } from './dashboard-builder.js';

/** PromQL label matcher for the `sweep` template variable (multi-value, "All" = `.*`). */
const SWEEP = 'sweep=~"$sweep"';
const RATE = '$__rate_interval';

export function buildNpfSweepDashboard(): Dashboard {
  const b = new DashboardBuilder();

  b.row('Sweep progress')
    .panel({
      type: 'bargauge',
      title: 'Cells complete per sweep',
      description: 'Fraction of each sweep\'s table cells (all seeds of one configuration) that are complete.',
      w: 8,
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [
        {
          expr: `sum by (sweep) (npf_sweep_cells_complete{${SWEEP}}) / sum by (sweep) (npf_sweep_cells_total{${SWEEP}})`,
          legend: '{{sweep}}',
          instant: true,
        },
      ],
    })
    .panel({
      type: 'timeseries',
      title: 'Cells complete / total',
      description: 'Complete and total cells of the selected sweeps over time.',
      w: 8,
      unit: 'short',
      min: 0,
      queries: [
        { expr: `sum by (sweep) (npf_sweep_cells_complete{${SWEEP}})`, legend: '{{sweep}} complete' },
        { expr: `sum by (sweep) (npf_sweep_cells_total{${SWEEP}})`, legend: '{{sweep}} total' },
      ],
    })
    .panel({
      type: 'timeseries',
      title: 'Tasks by state (selected sweeps)',
      description: 'Trials of the selected sweeps by state: blocked (waiting for a parent), pending, leased, running, succeeded, failed, cancelled.',
      w: 8,
      unit: 'short',
      min: 0,
      stacked: true,
      queries: [{ expr: `sum by (state) (npf_sweep_tasks{${SWEEP}})`, legend: '{{state}}' }],
    })
    .panel({
      type: 'table',
      title: 'Sweeps',
      description: 'Latest cells complete / total per sweep.',
      w: 12,
      h: 7,
      queries: [
        { expr: `sum by (sweep) (npf_sweep_cells_complete{${SWEEP}})`, legend: 'complete', instant: true, format: 'table' },
        { expr: `sum by (sweep) (npf_sweep_cells_total{${SWEEP}})`, legend: 'total', instant: true, format: 'table' },
      ],
      transformations: [{ id: 'merge', options: {} }],
    })
    .panel({
      type: 'stat',
      title: 'Tasks by state (all sweeps)',
      description: 'Coordinator-wide task counts by state.',
      w: 12,
      h: 7,
      unit: 'short',
      queries: [{ expr: 'sum by (state) (npf_tasks)', legend: '{{state}}', instant: true }],
    });

  b.row('Throughput')
    .panel({
      type: 'timeseries',
      title: 'Trial lifecycles per second by regime',
      description: 'Trials completed (lease to result) per second, by regime.',
      w: 8,
      unit: 'ops',
      min: 0,
      queries: [{ expr: `sum by (regime) (rate(npf_task_duration_seconds_count[${RATE}]))`, legend: '{{regime}}' }],
    })
    .panel({
      type: 'timeseries',
      title: 'Training examples per second by backend',
      description: 'Examples per second summed over workers, by TensorFlow.js backend (wasm, cpu, tensorflow, tensorflow-gpu).',
      w: 8,
      unit: 'short',
      min: 0,
      stacked: true,
      queries: [{ expr: 'sum by (backend) (npf_worker_examples_per_second)', legend: '{{backend}}' }],
    })
    .panel({
      type: 'timeseries',
      title: 'Leases granted and expired per second',
      description: 'Leases handed to workers, and leases that expired before the worker reported back.',
      w: 8,
      unit: 'ops',
      min: 0,
      queries: [
        { expr: `sum(rate(npf_leases_granted_total[${RATE}]))`, legend: 'granted' },
        { expr: `sum(rate(npf_leases_expired_total[${RATE}]))`, legend: 'expired' },
      ],
    });

  b.row('Durations')
    .panel({
      type: 'timeseries',
      title: 'Epoch duration (coordinator view)',
      description: 'Quantiles of epoch durations reported by workers in their progress messages.',
      w: 8,
      unit: 's',
      min: 0,
      queries: [0.5, 0.9, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (le) (rate(npf_epoch_duration_seconds_bucket[${RATE}])))`,
        legend: `p${Math.round(q * 100)}`,
      })),
    })
    .panel({
      type: 'timeseries',
      title: 'Epoch duration by backend (worker view)',
      description: 'Median and 90th percentile epoch duration measured by the workers, by backend.',
      w: 8,
      unit: 's',
      min: 0,
      queries: [0.5, 0.9].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (le, backend) (rate(npf_worker_epoch_duration_seconds_bucket[${RATE}])))`,
        legend: `{{backend}} p${Math.round(q * 100)}`,
      })),
    })
    .panel({
      type: 'timeseries',
      title: 'Trial duration by regime',
      description: 'Median and 90th percentile time from lease to completion, by regime.',
      w: 8,
      unit: 's',
      min: 0,
      queries: [0.5, 0.9].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (le, regime) (rate(npf_task_duration_seconds_bucket[${RATE}])))`,
        legend: `{{regime}} p${Math.round(q * 100)}`,
      })),
    });

  b.row('Failures and retries')
    .panel({
      type: 'timeseries',
      title: 'Retries and lease expiries',
      description: 'Task retries (attempts after a failure or an expired lease) and lease expiries, per minute.',
      w: 8,
      unit: 'short',
      min: 0,
      queries: [
        { expr: `sum(rate(npf_task_retries_total[${RATE}])) * 60`, legend: 'retries / min' },
        { expr: `sum(rate(npf_leases_expired_total[${RATE}])) * 60`, legend: 'lease expiries / min' },
      ],
    })
    .panel({
      type: 'timeseries',
      title: 'Worker trial failures by reason',
      description: 'Trial failures seen by workers (child crash, OOM, divergence, ...), per minute.',
      w: 8,
      unit: 'short',
      min: 0,
      stacked: true,
      queries: [{ expr: `sum by (reason) (rate(npf_worker_trial_failures_total[${RATE}])) * 60`, legend: '{{reason}}' }],
    })
    .panel({
      type: 'timeseries',
      title: 'Failed tasks and gRPC errors',
      description: 'Tasks that used up their attempts, per sweep; gRPC requests answered with a non-OK code, per second.',
      w: 8,
      unit: 'short',
      min: 0,
      queries: [
        { expr: `sum by (sweep) (npf_sweep_tasks{${SWEEP}, state="failed"})`, legend: '{{sweep}} failed' },
        { expr: `sum by (code) (rate(npf_grpc_requests_total{code!="OK"}[${RATE}]))`, legend: 'grpc {{code}}' },
      ],
    });

  b.row('Workers and slots')
    .panel({
      type: 'stat',
      title: 'Workers connected',
      description: 'Workers with a live session at the coordinator.',
      w: 4,
      unit: 'short',
      queries: [{ expr: 'sum(npf_workers_connected)', legend: 'workers' }],
    })
    .panel({
      type: 'timeseries',
      title: 'Slot use (used / capacity)',
      description: 'Resources held by leased trials over the capacity of live workers, per resource (cpu, gpu, memory_mb).',
      w: 10,
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [
        {
          expr: 'sum by (resource) (npf_resource_used) / sum by (resource) (npf_resource_capacity)',
          legend: '{{resource}}',
        },
      ],
    })
    .panel({
      type: 'table',
      title: 'Capacity and use',
      description: 'Latest used and capacity per resource.',
      w: 10,
      queries: [
        { expr: 'sum by (resource) (npf_resource_used)', legend: 'used', instant: true, format: 'table' },
        { expr: 'sum by (resource) (npf_resource_capacity)', legend: 'capacity', instant: true, format: 'table' },
      ],
      transformations: [{ id: 'merge', options: {} }],
    })
    .panel({
      type: 'timeseries',
      title: 'Trials running per worker',
      description: 'Trial child processes running on each worker.',
      w: 12,
      unit: 'short',
      min: 0,
      stacked: true,
      queries: [{ expr: 'sum by (instance) (npf_worker_trials_running)', legend: '{{instance}}' }],
    })
    .panel({
      type: 'timeseries',
      title: 'TensorFlow.js memory per worker',
      description: 'Bytes held by TensorFlow.js tensors (tf.memory().numBytes), per worker and backend.',
      w: 12,
      unit: 'bytes',
      min: 0,
      queries: [{ expr: 'sum by (instance, backend) (npf_worker_tfjs_bytes)', legend: '{{instance}} {{backend}}' }],
    });

  // NATS: the coordinator's publisher (npf_nats_*) and the server, through the exporter sidecar
  // (job npf-nats; names in NATS_EXPORTER_METRICS of the metrics contract).
  b.row('Events (NATS)')
    .panel({
      type: 'timeseries',
      title: 'Events dropped and NATS disconnects',
      description: 'Events the coordinator gave up publishing (buffer overflow while NATS was unreachable) and its lost connections, per minute.',
      w: 8,
      unit: 'short',
      min: 0,
      queries: [
        { expr: 'sum(increase(npf_nats_events_dropped_total[1m]))', legend: 'events dropped' },
        { expr: 'sum(increase(npf_nats_disconnects_total[1m]))', legend: 'disconnects' },
      ],
    })
    .panel({
      type: 'timeseries',
      title: 'Events stream size',
      description: 'Bytes stored in each JetStream stream (the events stream is capped at 1 GiB and drops its oldest events beyond it), and the server storage limit.',
      w: 8,
      unit: 'bytes',
      min: 0,
      queries: [
        { expr: 'sum by (stream_name) (jetstream_stream_total_bytes{job="npf-nats"})', legend: '{{stream_name}}' },
        { expr: 'max(jetstream_server_max_storage{job="npf-nats"})', legend: 'server max_file_store' },
      ],
    })
    .panel({
      type: 'timeseries',
      title: 'NATS server: messages in, connections, slow consumers',
      description: 'Messages received per second, client connections and slow consumers of the NATS server.',
      w: 8,
      unit: 'short',
      min: 0,
      queries: [
        { expr: `sum(rate(gnatsd_varz_in_msgs{job="npf-nats"}[${RATE}]))`, legend: 'messages in /s' },
        { expr: 'sum(gnatsd_varz_connections{job="npf-nats"})', legend: 'connections' },
        { expr: 'sum(gnatsd_varz_slow_consumers{job="npf-nats"})', legend: 'slow consumers' },
      ],
    });

  b.row('Accuracy of finished trials')
    .panel({
      type: 'table',
      title: 'Mean best test accuracy by sweep and regime',
      description: 'Mean over finished trials of the best test accuracy, with the number of trials (npf_trial_best_test_accuracy).',
      w: 12,
      queries: [
        {
          expr: `sum by (sweep, regime) (npf_trial_best_test_accuracy_sum{${SWEEP}}) / sum by (sweep, regime) (npf_trial_best_test_accuracy_count{${SWEEP}})`,
          legend: 'mean',
          instant: true,
          format: 'table',
        },
        {
          expr: `sum by (sweep, regime) (npf_trial_best_test_accuracy_count{${SWEEP}})`,
          legend: 'trials',
          instant: true,
          format: 'table',
        },
      ],
      transformations: [{ id: 'merge', options: {} }],
    })
    .panel({
      type: 'timeseries',
      title: 'Median best test accuracy by regime',
      description: 'Median (from the histogram buckets) of the best test accuracy of finished trials, by regime.',
      w: 12,
      unit: 'percentunit',
      queries: [
        {
          expr: `histogram_quantile(0.5, sum by (le, regime) (npf_trial_best_test_accuracy_bucket{${SWEEP}}))`,
          legend: '{{regime}}',
        },
      ],
    });

  return b.build({
    uid: 'npf-sweep',
    title: 'npf-sweep',
    description: 'Neural Path Features sweeps: progress, throughput, durations, failures, workers, accuracy.',
    tags: ['npf-sweep'],
    version: 1,
    editable: true,
    graphTooltip: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timezone: 'browser',
    templating: {
      list: [datasourceVariable(), labelValuesVariable('sweep', 'Sweep', 'npf_sweep_cells_total', 'sweep')],
    },
  });
}
