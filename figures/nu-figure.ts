/**
 * Figure 2 (middle): nu_t = y^T H_hat_t^-1 y over training (Section 4 of the paper: H_hat = H /
 * trace(H), H = (X X^T) (Hadamard) Lambda by Lemma 4.1), mean line with a +- std band per epoch.
 */
import type { CurvePoint } from './figure-data.js';
import { BASE_CONFIG, SCHEMA, requireNonEmpty, type Figure } from './figure-common.js';
import { bandLayers, bandRows } from './band-curve.js';

const FIGURE = 'nu';

export interface NuFigureOptions {
  title?: string;
  /** Logarithmic y axis (nu can span orders of magnitude). Default false. */
  logY?: boolean;
}

/** Pure: the vega-lite spec of nu_t over epochs. */
export function buildNuFigure(points: readonly CurvePoint[] | undefined, opts: NuFigureOptions = {}): Figure {
  const rows = bandRows(FIGURE, 'nu', requireNonEmpty(FIGURE, 'nu', points), 'nu_t');
  const runs = [...new Set(points!.map((p) => p.n).filter((n) => n !== undefined))].join('/');
  return {
    name: FIGURE,
    spec: {
      $schema: SCHEMA,
      title: {
        text: opts.title ? `nu_t: ${opts.title}` : 'nu_t = y^T H_hat^-1 y during training',
        subtitle: `mean line, +- std band${runs ? ` over ${runs} runs` : ''}`,
      },
      width: 420,
      height: 280,
      data: { values: rows },
      layer: bandLayers('nu_t', { value: '#1f77b4' }, opts.logY ? { type: 'log' } : { zero: false }),
      config: BASE_CONFIG,
    },
  };
}
