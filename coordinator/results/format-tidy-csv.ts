/**
 * The tidy tables of a sweep (one observation per row, one column per variable, one header, so
 * each loads with a single `pandas.read_csv`):
 *
 * - trials.csv, one row per trial: its id, every config column (key and spec), status, backend,
 *   best and final test accuracy, best epoch, epochs run, the epoch a resumed trial continued
 *   from (empty: it ran from the start), wall time;
 * - epochs.csv, one row per (trial, epoch) of the trials with a result: losses, test accuracy,
 *   throughput; join it to trials.csv on trial_id.
 *
 * Accuracies are in percent (column names end in _pct), like the results tables; an empty field
 * is a value that does not apply or is not known (NaN in pandas).
 */
import type { TrialSpec } from '../../science/types.js';
import type { TrialOutcome } from '../sweep-types.js';
import { csvText } from './csv-field.js';
import { effectiveStatus } from './seed-stats.js';

export const TRIALS_CSV_HEADER = [
  'trial_id', 'dataset', 'arch', 'width', 'depth', 'optimizer', 'lr', 'regime', 'stage', 'seed',
  'epochs', 'batch_size', 'loss', 'init', 'gate_beta', 'gate_eps', 'train_first', 'train_per_class', 'test_first', 'test_per_class',
  'status', 'backend', 'best_test_accuracy_pct', 'final_test_accuracy_pct', 'best_epoch', 'epochs_run', 'resumed_from_epoch', 'diverged_at_epoch', 'wall_s',
] as const;

export const EPOCHS_CSV_HEADER = ['trial_id', 'epoch', 'train_loss', 'test_loss', 'test_accuracy_pct', 'examples_per_sec', 'duration_s'] as const;

/** Percent to 6 decimals (drops float noise, keeps everything measured). */
const pct = (fraction: number | undefined): number | undefined => (fraction === undefined ? undefined : Number((fraction * 100).toFixed(6)));
const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : Number((ms / 1000).toFixed(3)));
/** 10 significant digits: float noise off a loss (0.28500000000000003 -> 0.285), nothing measured lost. */
const sig = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(10)) : x);

function specColumns(spec: TrialSpec | undefined): Array<string | number | undefined> {
  const arch = spec?.arch;
  return [
    arch?.kind === 'fc' ? arch.width : undefined,
    arch?.kind === 'fc' ? arch.depth : undefined,
  ];
}

function runColumns(spec: TrialSpec | undefined): Array<string | number | undefined> {
  return [
    spec?.epochs,
    spec?.batchSize,
    spec?.loss,
    spec?.init,
    spec?.gate.beta,
    spec?.gate.eps,
    spec?.dataset.trainSubset?.first,
    spec?.dataset.trainSubset?.perClass,
    spec?.dataset.testSubset?.first,
    spec?.dataset.testSubset?.perClass,
  ];
}

/** One row per trial, in the sweep's order. */
export function formatTrialsCsv(outcomes: readonly TrialOutcome[]): string {
  const rows = outcomes.map((o) => {
    const k = o.key;
    const r = o.result;
    return [
      o.taskId, k.dataset, k.arch, ...specColumns(o.spec), k.optimizer, k.lr, k.regime, k.stage, k.seed,
      ...runColumns(o.spec),
      effectiveStatus(o), r?.backend, pct(r?.bestTestAccuracy), pct(r?.finalTestAccuracy), r?.bestEpoch, r?.epochs.length, r?.resumedFromEpoch, r?.divergedAtEpoch, seconds(r?.wallMs),
    ];
  });
  return csvText(TRIALS_CSV_HEADER, rows);
}

/** One row per epoch of each trial that has a result. */
export function formatEpochsCsv(outcomes: readonly TrialOutcome[]): string {
  const rows = outcomes.flatMap((o) =>
    (o.result?.epochs ?? []).map((e) => [o.taskId, e.epoch, sig(e.trainLoss), sig(e.testLoss), pct(e.testAccuracy), Number(e.examplesPerSec.toFixed(1)), seconds(e.durationMs)]),
  );
  return csvText(EPOCHS_CSV_HEADER, rows);
}
