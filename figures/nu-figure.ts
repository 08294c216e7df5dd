/**
 * Figure 2 (middle): nu_t = y^T H_hat_t^-1 y over training (Section 4 of the paper: H_hat = H /
 * trace(H), H = (X X^T) (Hadamard) Lambda by Lemma 4.1), mean line with a +- std band per epoch.
 *
 * nu is undefined in a run when y has a component in H_hat's null space (docs/nu.md); such runs
 * are not in the mean. The figure says so: the subtitle gives the number of runs, a label "n/N"
 * marks each epoch whose mean is over fewer runs than were measured, and the epochs where no run
 * had a defined nu are listed.
 */
import type { CurvePoint } from './figure-data.js';
import { BASE_CONFIG, SCHEMA, requireNonEmpty, type Figure } from './figure-common.js';
import { bandLayers, bandRows } from './band-curve.js';

const FIGURE = 'nu';

export interface NuFigureOptions {
  title?: string;
  /** Logarithmic y axis (nu can span orders of magnitude). Default false. */
  logY?: boolean;
  /** Epochs where nu was measured but undefined in every run. */
  undefinedEpochs?: readonly number[];
}

/** The subtitle: over how many runs, and where nu was undefined in some or all of them. */
export function nuSubtitle(points: readonly CurvePoint[], undefinedEpochs: readonly number[] = []): string {
  const runs = [...new Set(points.map((p) => p.of ?? p.n).filter((n): n is number => n !== undefined))].sort((a, b) => a - b);
  const partial = points.filter((p) => p.of !== undefined && p.n !== undefined && p.n < p.of);
  const parts = [`mean line, +- std band${runs.length ? ` over ${runs.join('/')} runs` : ''}`];
  if (partial.length === 0 && undefinedEpochs.length === 0) {
    if (runs.length) parts.push('nu defined in every run at every epoch');
  } else {
    if (partial.length) parts.push(`nu undefined in some runs at epochs ${partial.map((p) => `${p.epoch} (${p.n}/${p.of})`).join(', ')}`);
    if (undefinedEpochs.length) parts.push(`in no run at epochs ${[...undefinedEpochs].sort((a, b) => a - b).join(', ')}`);
  }
  return parts.join('; ');
}

/** Pure: the vega-lite spec of nu_t over epochs. */
export function buildNuFigure(points: readonly CurvePoint[] | undefined, opts: NuFigureOptions = {}): Figure {
  const rows = bandRows(FIGURE, 'nu', requireNonEmpty(FIGURE, 'nu', points), 'nu_t');
  const yScale: object = opts.logY ? { type: 'log' } : { zero: false };
  const counts = points!
    .filter((p) => p.of !== undefined && p.n !== undefined && p.n < p.of)
    .map((p) => ({ epoch: p.epoch, mean: p.mean, label: `${p.n}/${p.of}` }));
  const countLayer = counts.length
    ? [
        {
          data: { values: counts },
          mark: { type: 'text' as const, dy: -10, fontSize: 10, color: '#b22222' },
          encoding: {
            x: { field: 'epoch', type: 'quantitative' as const },
            y: { field: 'mean', type: 'quantitative' as const, scale: yScale },
            text: { field: 'label', type: 'nominal' as const },
          },
        },
      ]
    : [];
  return {
    name: FIGURE,
    spec: {
      $schema: SCHEMA,
      title: {
        text: opts.title ? `nu_t: ${opts.title}` : 'nu_t = y^T H_hat^-1 y during training',
        subtitle: nuSubtitle(points!, opts.undefinedEpochs),
      },
      width: 420,
      height: 280,
      data: { values: rows },
      layer: [...bandLayers('nu_t', { value: '#1f77b4' }, yScale), ...countLayer],
      config: BASE_CONFIG,
    },
  };
}
