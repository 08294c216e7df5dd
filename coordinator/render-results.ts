/**
 * GetResults: a sweep's stored TrialResults -> the results module's report (Table 2 mean +- std,
 * stages, curves) in the asked format. The aggregation options resolved from the sweep's spec
 * when it was submitted (expected seeds, step-size selection, std) are stored with it; the
 * paper's numbers are shown beside each cell.
 */
import { InvalidInputError } from '../common/errors.js';
import { aggregateOptionsFor } from './results/aggregate-options-for.js';
import type { PaperReference } from './results/paper-reference.js';
import { renderReport, type ReportFormat } from './results/render-report.js';
import { parseSweepSpec } from './sweep-spec/parse-sweep.js';
import { InvalidRequestError } from './errors.js';
import type { SweepAggregation, SweepCoordinator } from './sweep-coordinator.js';

const FORMATS: Record<string, ReportFormat> = {
  markdown: 'markdown',
  md: 'markdown',
  csv: 'csv',
  json: 'json',
  latex: 'latex',
  tex: 'latex',
  stages: 'stages-csv',
  'stages-csv': 'stages-csv',
  trials: 'trials-csv',
  'trials-csv': 'trials-csv',
  epochs: 'epochs-csv',
  'epochs-csv': 'epochs-csv',
};

/** Every name a user may give a format by (npf results --format checks against it). */
export const RESULT_FORMATS: readonly string[] = Object.keys(FORMATS);

/** The formats a user may name, for messages. */
export const RESULT_FORMAT_NAMES = 'md (markdown), csv, json, latex (tex), stages, trials or epochs';

export function parseResultFormat(format: string): ReportFormat {
  const f = FORMATS[format.toLowerCase()];
  if (!f) throw new InvalidRequestError(`unknown results format '${format}' (expected ${RESULT_FORMAT_NAMES})`, { format });
  return f;
}

/** What rendering a sweep's results reads: the coordinator, or a read-only store (coordinator/sweep-reader.ts). */
export type ResultsSource = Pick<SweepCoordinator, 'outcomes' | 'aggregationOf' | 'sweepSource'>;

export function renderSweepResults(
  core: ResultsSource,
  sweepId: string,
  format: string,
  paper: PaperReference | undefined,
  env: Readonly<Record<string, string | undefined>> = {},
  log: (line: string) => void = () => {},
): { table: string; complete: boolean } {
  const fmt = parseResultFormat(format);
  const outcomes = core.outcomes(sweepId);
  const complete = outcomes.every((o) => o.status !== 'pending');
  const options = core.aggregationOf(sweepId) ?? optionsFromStoredSpec(core, sweepId, env, log);
  return { table: renderReport(outcomes, fmt, { ...options, ...(paper ? { paper } : {}) }), complete };
}

/**
 * A sweep submitted before its aggregation options were stored (schema version 3): derive them
 * from its stored spec text. A text that does not parse here (a sweep submitted in-process with
 * no spec, or a spec using a variable this process does not set) gets the default aggregation,
 * and the log says why.
 */
function optionsFromStoredSpec(
  core: ResultsSource,
  sweepId: string,
  env: Readonly<Record<string, string | undefined>>,
  log: (line: string) => void,
): SweepAggregation {
  const source = core.sweepSource(sweepId);
  try {
    return aggregateOptionsFor(parseSweepSpec(source.specYaml, { file: source.fileName, set: source.overrides, env }));
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    log(`results of ${sweepId}: default aggregation (its stored spec no longer parses: ${e.message})`);
    return {};
  }
}
