/**
 * A mean line with a +- std band per epoch: the layers shared by the nu_t and NTK-split figures.
 */
import type { CurvePoint } from './figure-data.js';
import { requireFinite } from './figure-common.js';

export interface BandRow {
  epoch: number;
  mean: number;
  lo: number;
  hi: number;
  series: string;
  panel: string;
}

/** Checked rows of one series (sorted by epoch). */
export function bandRows(figure: string, field: string, points: readonly CurvePoint[], series: string, panel = ''): BandRow[] {
  return points
    .map((p, i) => {
      const epoch = requireFinite(figure, `${field}[${i}].epoch`, p.epoch);
      const mean = requireFinite(figure, `${field}[${i}].mean`, p.mean);
      const std = requireFinite(figure, `${field}[${i}].std`, p.std);
      return { epoch, mean, lo: mean - std, hi: mean + std, series, panel };
    })
    .sort((a, b) => a.epoch - b.epoch);
}

/** vega-lite layers: a translucent band lo..hi and the mean line with points, coloured by series. */
export function bandLayers(yTitle: string, color: object, yScale: object = {}) {
  const x = { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1, format: 'd' } };
  return [
    {
      mark: { type: 'area' as const, opacity: 0.22 },
      encoding: { x, y: { field: 'lo', type: 'quantitative' as const, title: yTitle, scale: yScale }, y2: { field: 'hi' }, color },
    },
    {
      mark: { type: 'line' as const, point: { size: 30, filled: true } },
      encoding: { x, y: { field: 'mean', type: 'quantitative' as const, title: yTitle, scale: yScale }, color },
    },
  ];
}
