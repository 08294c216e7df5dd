/**
 * Pure: make a figure's vega-lite spec interactive for the browser. The figures of figures/ are
 * drawn for files (SVG/PNG); on the dashboard each series can be switched off and on by clicking
 * its legend entry (shift-click for several), which dims the others. Hover values come from the
 * specs' own `tooltip` encodings.
 */
import type { FigureSpec } from '../figures/figure-common.js';

/** The name of the legend-bound selection added to a spec. */
export const SERIES_PARAM = 'series';

type Json = Record<string, unknown>;

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Every unit spec (an object with a `mark`) inside `spec`, through layers and facets. */
function units(spec: Json, out: Json[] = []): Json[] {
  if ('mark' in spec) out.push(spec);
  for (const key of ['layer', 'hconcat', 'vconcat', 'concat']) {
    const list = spec[key];
    for (const child of Array.isArray(list) ? list : []) if (isObject(child)) units(child, out);
  }
  if (isObject(spec.spec)) units(spec.spec, out);
  return out;
}

function colorField(unit: Json): string | undefined {
  const enc = unit.encoding;
  if (!isObject(enc) || !isObject(enc.color)) return undefined;
  return typeof enc.color.field === 'string' ? enc.color.field : undefined;
}

function markOpacity(unit: Json): number {
  const m = unit.mark;
  return isObject(m) && typeof m.opacity === 'number' ? m.opacity : 1;
}

/**
 * A copy of `spec` whose series (the colour field of its first coloured mark) can be toggled
 * from the legend. Returns the copy and the series field (null when nothing is coloured, in
 * which case the copy is unchanged).
 */
export function withSeriesToggle(spec: FigureSpec): { spec: FigureSpec; seriesField: string | null } {
  const copy = structuredClone(spec) as unknown as Json;
  const all = units(copy);
  const first = all.find((u) => colorField(u) !== undefined);
  if (!first) return { spec: copy as unknown as FigureSpec, seriesField: null };
  const field = colorField(first)!;
  const params = Array.isArray(first.params) ? first.params : [];
  first.params = [...params, { name: SERIES_PARAM, select: { type: 'point', fields: [field] }, bind: 'legend' }];
  for (const u of all) {
    if (colorField(u) !== field) continue;
    const full = markOpacity(u);
    const enc = u.encoding as Json;
    enc.opacity = { condition: { param: SERIES_PARAM, value: full, empty: true }, value: Math.min(full, 0.08) };
  }
  return { spec: copy as unknown as FigureSpec, seriesField: field };
}
