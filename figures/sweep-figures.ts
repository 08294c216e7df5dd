/**
 * Draw every figure a finished (or partly finished) sweep has data for, next to its results:
 * what `npf run` and `npf results --out` call after writing results.json. results.json holds
 * the aggregates and each trial's accuracy curve; the figure data is also written to
 * figures-input.json so `npf plot <sweep-dir>` redraws the same set.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPaperDir, loadPaperReference } from '../coordinator/results/load-paper-reference.js';
import { buildFigures } from './build-figures.js';
import type { FiguresInput } from './figure-data.js';
import { figuresInputFromResults } from './from-results-json.js';
import { renderFigure } from './render-figure.js';

/** Write figures-input.json and every figure (SVG + PNG) into `<sweepDir>/figures/`; returns the PNG paths. */
export async function writeSweepFigures(sweepDir: string, resultsJson: string, title?: string): Promise<string[]> {
  const data: FiguresInput = figuresInputFromResults(JSON.parse(resultsJson), join(sweepDir, 'results.json'), title);
  writeFileSync(join(sweepDir, 'figures-input.json'), `${JSON.stringify({ v: 1, ...data }, null, 1)}\n`);
  const paperDir = defaultPaperDir();
  const figures = buildFigures(data, paperDir ? await loadPaperReference(paperDir) : undefined, 'results.json');
  const out: string[] = [];
  for (const f of figures) out.push((await renderFigure(f, join(sweepDir, 'figures'))).pngPath);
  return out;
}
