/**
 * Shared pieces of the figure spec builders: the vega-lite spec type, the house look, and the
 * input checks that turn empty or broken data into one FigureDataError naming figure and field.
 */
import type { TopLevelSpec } from 'vega-lite';
import { regimeOf } from '../science/labels.js';
import { REGIMES } from '../science/regimes.js';
import { FigureDataError } from './errors.js';

export type FigureSpec = TopLevelSpec;

/** A named figure: `name` becomes <name>.svg and <name>.png. */
export interface Figure {
  name: string;
  spec: FigureSpec;
}

export const FONT = 'DejaVu Sans';

/** vega-lite config shared by every figure (fonts resvg can find; white background). */
export const BASE_CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#888' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' as const },
};

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Throw FigureDataError unless `items` is a non-empty array. */
export function requireNonEmpty<T>(figure: string, field: string, items: readonly T[] | undefined): readonly T[] {
  if (!Array.isArray(items) || items.length === 0) {
    throw new FigureDataError(`figure '${figure}': no data in '${field}' (nothing to plot)`, { figure, field });
  }
  return items;
}

/** Throw FigureDataError unless `value` is a finite number. */
export function requireFinite(figure: string, path: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new FigureDataError(`figure '${figure}': '${path}' must be a finite number, got ${JSON.stringify(value)}`, { figure, path, value });
  }
  return value;
}

/** Throw FigureDataError unless `value` is a non-empty string. */
export function requireString(figure: string, path: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new FigureDataError(`figure '${figure}': '${path}' must be a non-empty string, got ${JSON.stringify(value)}`, { figure, path, value });
  }
  return value;
}

/** Axis domain [lo, hi] padded by 5% of the span (at least `minPad`), for zero-less scales. */
export function paddedDomain(values: number[], minPad = 0.5): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = Math.max((hi - lo) * 0.05, minPad);
  return [Math.floor(lo - pad), Math.ceil(hi + pad)];
}

/**
 * One colour per regime, in the order of REGIMES (ReLU green, FRNPF (II) blue, FRNPF (DI) orange,
 * DNPFL red, FLNPF teal, Stage purple), so a regime looks the same in every figure; regimes added
 * later take the colours after these.
 */
const REGIME_PALETTE = ['#54a24b', '#4c78a8', '#f58518', '#e45756', '#72b7b2', '#b279a2', '#ff9da6', '#eeca3b'];

/** vega-lite colour scale for the given regime labels (in legend order); names that are no regime ('stage 3') get greys. */
export function regimeColorScale(regimes: readonly string[]): { domain: string[]; range: string[] } {
  const greys = ['#9d755d', '#bab0ac', '#79706e', '#555555'];
  let g = 0;
  const colorOf = (label: string): string => {
    const r = regimeOf(label);
    return r === undefined ? greys[g++ % greys.length]! : REGIME_PALETTE[REGIMES.indexOf(r) % REGIME_PALETTE.length]!;
  };
  return { domain: [...regimes], range: regimes.map(colorOf) };
}
