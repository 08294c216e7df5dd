/**
 * Pure: one trial's curves per epoch as a vega-lite figure (three panels side by side: test
 * accuracy, train and test loss, examples/s), in the house look of figures/.
 */
import { BASE_CONFIG, SCHEMA, type Figure } from '../figures/figure-common.js';
import type { EpochPoint } from './api-types.js';

const PANELS = [
  { panel: 'test accuracy (%)', measures: ['test accuracy'] },
  { panel: 'loss', measures: ['train loss', 'test loss'] },
  { panel: 'examples/s', measures: ['examples/s'] },
] as const;

export function trialCurvesFigure(points: readonly EpochPoint[], title: string): Figure {
  const rows: Array<{ epoch: number; measure: string; value: number }> = [];
  for (const p of points) {
    rows.push({ epoch: p.epoch, measure: 'test accuracy', value: p.testAccuracy * 100 });
    if (p.trainLoss !== null && Number.isFinite(p.trainLoss)) rows.push({ epoch: p.epoch, measure: 'train loss', value: p.trainLoss });
    if (p.testLoss !== null && Number.isFinite(p.testLoss)) rows.push({ epoch: p.epoch, measure: 'test loss', value: p.testLoss });
    rows.push({ epoch: p.epoch, measure: 'examples/s', value: p.examplesPerSec });
  }
  const measures = PANELS.flatMap((p) => [...p.measures]);
  const color = { field: 'measure', type: 'nominal' as const, title: null, scale: { domain: measures, range: ['#54a24b', '#4c78a8', '#f58518', '#b279a2'] } };
  return {
    name: 'trial',
    spec: {
      $schema: SCHEMA,
      title: { text: title, subtitle: 'per epoch' },
      data: { values: rows },
      hconcat: PANELS.map((p) => ({
        width: 260,
        height: 180,
        transform: [{ filter: { field: 'measure', oneOf: [...p.measures] } }],
        mark: { type: 'line' as const, point: { size: 30, filled: true } },
        encoding: {
          x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'value', type: 'quantitative' as const, title: p.panel, scale: { zero: false } },
          color,
          tooltip: [
            { field: 'measure', type: 'nominal' as const },
            { field: 'epoch', type: 'quantitative' as const },
            { field: 'value', type: 'quantitative' as const, format: '.4~f' },
          ],
        },
      })),
      resolve: { scale: { color: 'shared' } },
      config: BASE_CONFIG,
    },
  };
}
