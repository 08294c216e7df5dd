/**
 * GetResults: a sweep's stored TrialResults -> the results module's report (Table 2 mean +- std,
 * stages, curves) in the asked format. The sweep's own spec (stored at submission) gives the
 * expected seeds and the step-size selection; the paper's numbers are shown beside each cell.
 */
import { aggregateOptionsFor } from './results/aggregate-options-for.js';
import type { PaperReference } from './results/paper-reference.js';
import { renderReport, type ReportFormat } from './results/render-report.js';
import { parseSweepSpec } from './sweep-spec/parse-sweep.js';
import { InvalidRequestError } from './errors.js';
import type { SweepCoordinator } from './sweep-coordinator.js';

const FORMATS: Record<string, ReportFormat> = { markdown: 'markdown', md: 'markdown', csv: 'csv', json: 'json', latex: 'latex', tex: 'latex' };

export function parseResultFormat(format: string): ReportFormat {
  const f = FORMATS[format.toLowerCase()];
  if (!f) throw new InvalidRequestError(`unknown results format '${format}' (expected markdown, csv, json or latex)`, { format });
  return f;
}

export function renderSweepResults(
  core: SweepCoordinator,
  sweepId: string,
  format: string,
  paper: PaperReference | undefined,
  env: Readonly<Record<string, string | undefined>> = {},
): { table: string; complete: boolean } {
  const fmt = parseResultFormat(format);
  const outcomes = core.outcomes(sweepId);
  const complete = outcomes.every((o) => o.status !== 'pending');
  const source = core.sweepSource(sweepId);
  let options = {};
  try {
    options = aggregateOptionsFor(parseSweepSpec(source.specYaml, { file: source.fileName, set: source.overrides, env }));
  } catch {
    // A sweep submitted in-process without a spec (tests, benchmarks): default aggregation.
  }
  return { table: renderReport(outcomes, fmt, { ...options, ...(paper ? { paper } : {}) }), complete };
}
