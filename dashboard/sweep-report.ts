/**
 * A sweep's report on the dashboard: results.md and results.json as the coordinator renders them
 * (coordinator/render-results.ts over the results module, same options, same paper numbers), and
 * the figures of figures/ made interactive and compiled to vega for the browser.
 */
import { renderSweepResults } from '../coordinator/render-results.js';
import type { PaperReference } from '../coordinator/results/paper-reference.js';
import type { TrialOutcome } from '../coordinator/sweep-types.js';
import { buildFigures } from '../figures/build-figures.js';
import { FigureDataError } from '../figures/errors.js';
import { figuresInputFromResults } from '../figures/from-results-json.js';
import { compileFigure } from '../figures/render-figure.js';
import type { FigureView, ResultsBlock } from './api-types.js';
import type { SweepAggregation } from '../coordinator/core/types.js';
import type { SweepSource } from './data-source.js';
import { withSeriesToggle } from './interactive-figure.js';
import { markdownBlocks } from './markdown-blocks.js';

/** Per-trial curves are drawn up to this many finished trials (one line each). */
export const MAX_CURVE_TRIALS = 200;

export interface ReportContext {
  /** The paper's numbers for the table and the figures (absent: no comparison, as without data/paper). */
  paper?: PaperReference;
  /** Environment for ${NAME} in stored specs (as the coordinator renders results). */
  env: Readonly<Record<string, string | undefined>>;
}

export interface SweepReport {
  results: ResultsBlock[];
  figures: FigureView[];
  figureNotes: string[];
}

function titleOf(spec: unknown, fallback: string): string {
  const t = (spec as { title?: unknown }).title;
  if (typeof t === 'string') return t;
  if (t && typeof (t as { text?: unknown }).text === 'string') return (t as { text: string }).text;
  return fallback;
}

export function sweepReport(
  sweepId: string,
  source: SweepSource,
  aggregation: SweepAggregation | undefined,
  outcomes: TrialOutcome[],
  ctx: ReportContext,
): SweepReport {
  const reader = { outcomes: () => outcomes, sweepSource: () => source, aggregationOf: () => aggregation };
  const markdown = renderSweepResults(reader, sweepId, 'markdown', ctx.paper, ctx.env).table;
  const jsonText = renderSweepResults(reader, sweepId, 'json', ctx.paper, ctx.env).table;
  const resultsJson = JSON.parse(jsonText) as unknown;

  const figureNotes: string[] = [];
  // results.json carries each finished trial's curve; past MAX_CURVE_TRIALS they are not drawn here.
  const input = figuresInputFromResults(resultsJson, 'results');
  const curves = input.trials?.length ?? 0;
  if (curves > MAX_CURVE_TRIALS) {
    figureNotes.push(`Per-trial curves are drawn for sweeps of at most ${MAX_CURVE_TRIALS} finished trials (this one has ${curves}); each trial's page has its own.`);
    delete input.trials;
  }
  let figures: FigureView[] = [];
  try {
    figures = buildFigures(input, ctx.paper, 'results').map((f) => {
      const { spec, seriesField } = withSeriesToggle(f.spec);
      return { name: f.name, title: titleOf(f.spec, f.name), vega: compileFigure(f.name, spec), seriesField };
    });
  } catch (e) {
    if (!(e instanceof FigureDataError)) throw e;
    figureNotes.push('No figure yet: no trial has finished.');
  }
  // results.json itself stays on the server: with each trial's curve it is megabytes at 10,000 trials.
  return { results: markdownBlocks(markdown), figures, figureNotes };
}
