/**
 * Draw every figure a finished (or partly finished) sweep has data for, next to its results:
 * what `npf run` calls after writing results.json. Per-trial accuracy curves come from the
 * trials' own epoch records, which results.json (an aggregate) does not hold; they are also
 * written to figures-input.json so `npf plot <sweep-dir>` redraws the same set.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPaperDir, loadPaperReference } from '../coordinator/results/load-paper-reference.js';
import type { TrialOutcome } from '../coordinator/sweep-types.js';
import { buildFigures } from './build-figures.js';
import type { FiguresInput, TrialCurve } from './figure-data.js';
import { figuresInputFromResults } from './from-results-json.js';
import { renderFigure } from './render-figure.js';

/** Test-accuracy curves (percent) of the trials that produced a result. */
export function trialCurves(outcomes: readonly TrialOutcome[], label: (o: TrialOutcome) => string): TrialCurve[] {
  return outcomes
    .filter((o) => o.result && o.result.epochs.length > 0)
    .map((o) => ({
      label: label(o),
      regime: o.key.regime === 'stage' ? `stage ${o.key.stage ?? 0}` : o.key.regime,
      points: o.result!.epochs.map((e) => ({ epoch: e.epoch, testAccuracy: e.testAccuracy * 100 })),
    }));
}

/** Write figures-input.json and every figure (SVG + PNG) into `<sweepDir>/figures/`; returns the PNG paths. */
export async function writeSweepFigures(sweepDir: string, resultsJson: string, trials: TrialCurve[], title?: string): Promise<string[]> {
  const data: FiguresInput = { ...figuresInputFromResults(JSON.parse(resultsJson), join(sweepDir, 'results.json'), title), trials };
  writeFileSync(join(sweepDir, 'figures-input.json'), `${JSON.stringify({ v: 1, ...data }, null, 1)}\n`);
  const paperDir = defaultPaperDir();
  const figures = buildFigures(data, paperDir ? await loadPaperReference(paperDir) : undefined, 'results.json');
  const out: string[] = [];
  for (const f of figures) out.push((await renderFigure(f, join(sweepDir, 'figures'))).pngPath);
  return out;
}
