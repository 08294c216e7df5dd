/**
 * Outcomes of one sweep -> the text a user asks for (pure): Table 2 and, when the sweep has
 * stage trials, the stages table; the tidy per-trial and per-epoch tables. JSON carries
 * everything, including the nu_t and NTK-split curves and each trial's accuracy curve for the
 * figure code.
 */
import type { TrialOutcome } from '../sweep-types.js';
import { aggregateNpkCurves, aggregateNtkSplitCurves } from './aggregate-curves.js';
import { aggregateStages } from './aggregate-stages.js';
import { aggregate, type AggregateOptions } from './aggregate-table.js';
import { formatJson } from './format-json.js';
import { formatStagesCsv, formatStagesLatex, formatStagesMarkdown } from './format-stages.js';
import { formatTableCsv } from './format-table-csv.js';
import { formatTableLatex } from './format-table-latex.js';
import { formatTableMarkdown } from './format-table-markdown.js';
import { formatEpochsCsv, formatTrialsCsv } from './format-tidy-csv.js';
import type { PaperReference } from './paper-reference.js';
import { trialCurvesOf } from './trial-curves.js';

export type ReportFormat = 'markdown' | 'csv' | 'json' | 'latex' | 'stages-csv' | 'trials-csv' | 'epochs-csv';

/** Every report format. */
export const REPORT_FORMATS: readonly ReportFormat[] = ['markdown', 'csv', 'json', 'latex', 'stages-csv', 'trials-csv', 'epochs-csv'];

export interface ReportOptions extends Omit<AggregateOptions, 'paper'> {
  /** The paper's numbers (loadPaperReference); omit for no comparison. */
  paper?: PaperReference;
}

/**
 * - markdown / latex: Table 2, then the stages table if any;
 * - csv: Table 2's cells (a stages-only sweep, which has no Table 2 cell: the stages table);
 * - stages-csv: the stages table (header only for a sweep without stage trials);
 * - trials-csv, epochs-csv: the tidy per-trial and per-epoch tables (format-tidy-csv.ts);
 * - json: { table2, stages, npkCurves, ntkSplitCurves, trialCurves }.
 * Each CSV is one table with one header.
 */
export function renderReport(outcomes: readonly TrialOutcome[], format: ReportFormat, opts: ReportOptions = {}): string {
  if (format === 'trials-csv') return formatTrialsCsv(outcomes);
  if (format === 'epochs-csv') return formatEpochsCsv(outcomes);
  const { paper, ...rest } = opts;
  const table = aggregate(outcomes, { ...rest, ...(paper ? { paper: paper.table2 } : {}) });
  const stages = aggregateStages(outcomes, { std: opts.std, expectedSeeds: opts.expectedSeeds, paper });
  const hasTable = table.rows.length > 0;
  const hasStages = stages.groups.length > 0;
  switch (format) {
    case 'json':
      return formatJson({
        table2: table,
        stages,
        npkCurves: aggregateNpkCurves(outcomes, { std: opts.std }),
        ntkSplitCurves: aggregateNtkSplitCurves(outcomes, { std: opts.std }),
        trialCurves: trialCurvesOf(outcomes),
      });
    case 'csv':
      return !hasTable && hasStages ? formatStagesCsv(stages) : formatTableCsv(table);
    case 'stages-csv':
      return formatStagesCsv(stages);
    case 'latex':
      return [hasTable || !hasStages ? formatTableLatex(table) : '', hasStages ? formatStagesLatex(stages) : ''].filter(Boolean).join('\n');
    case 'markdown':
      return [hasTable || !hasStages ? formatTableMarkdown(table) : '', hasStages ? formatStagesMarkdown(stages) : ''].filter(Boolean).join('\n');
  }
}
