/**
 * The NTK split of DNPFL: trace and Frobenius norm of K_v (Gram of per-example gradients w.r.t.
 * the value network) and K_phi (w.r.t. the feature network) over epochs, one panel per measure,
 * mean line with a +- std band per kernel.
 */
import type { NtkSplitSeries } from './figure-data.js';
import { BASE_CONFIG, SCHEMA, requireNonEmpty, type Figure } from './figure-common.js';
import { FigureDataError } from './errors.js';
import { bandLayers, bandRows } from './band-curve.js';

const FIGURE = 'ntk-split';
const KERNEL_LABEL = { value: 'K_v (value net)', feature: 'K_phi (feature net)' } as const;
const MEASURE_LABEL = { trace: 'trace', frobenius: 'Frobenius norm' } as const;

export interface NtkSplitFigureOptions {
  title?: string;
  /** Logarithmic y axes. Default true (K_phi is often orders of magnitude below K_v). */
  logY?: boolean;
}

/** Pure: the vega-lite spec of the NTK-split curves (two panels: trace, Frobenius). */
export function buildNtkSplitFigure(series: readonly NtkSplitSeries[] | undefined, opts: NtkSplitFigureOptions = {}): Figure {
  const all = requireNonEmpty(FIGURE, 'ntkSplit', series).flatMap((s, i) => {
    if (!(s.kernel in KERNEL_LABEL)) throw new FigureDataError(`figure '${FIGURE}': 'ntkSplit[${i}].kernel' must be 'value' or 'feature', got ${JSON.stringify(s.kernel)}`, { figure: FIGURE });
    if (!(s.measure in MEASURE_LABEL)) throw new FigureDataError(`figure '${FIGURE}': 'ntkSplit[${i}].measure' must be 'trace' or 'frobenius', got ${JSON.stringify(s.measure)}`, { figure: FIGURE });
    const points = requireNonEmpty(FIGURE, `ntkSplit[${i}].points`, s.points);
    return bandRows(FIGURE, `ntkSplit[${i}].points`, points, KERNEL_LABEL[s.kernel], MEASURE_LABEL[s.measure]);
  });
  const logY = opts.logY ?? true;
  if (logY) {
    const bad = all.find((r) => r.mean <= 0);
    if (bad) throw new FigureDataError(`figure '${FIGURE}': ${bad.panel} of ${bad.series} at epoch ${bad.epoch} is ${bad.mean}, not > 0, so it cannot go on a log axis (use logY: false)`, { figure: FIGURE });
    // A band reaching below zero cannot be drawn on a log axis: clip it just above zero.
    for (const r of all) r.lo = Math.max(r.lo, r.mean * 1e-3);
  }
  const panels = [...new Set(all.map((r) => r.panel))];
  const color = { field: 'series', type: 'nominal' as const, title: 'kernel', scale: { domain: Object.values(KERNEL_LABEL), range: ['#1f77b4', '#ff7f0e'] } };
  return {
    name: FIGURE,
    spec: {
      $schema: SCHEMA,
      title: { text: opts.title ? `NTK split: ${opts.title}` : 'NTK split of DNPFL: K_v vs K_phi', subtitle: 'mean line, +- std band over runs' },
      data: { values: all },
      facet: { column: { field: 'panel', type: 'nominal', title: null, sort: panels, header: { labelFontSize: 12 } } },
      spec: { width: 300, height: 240, layer: bandLayers('value', color, logY ? { type: 'log' } : { zero: false }) },
      resolve: { scale: { y: 'independent' } },
      config: BASE_CONFIG,
    },
  };
}
