/**
 * Table 2 as grouped dot-and-whisker: for each (arch, optimizer, dataset) group one dot per regime
 * at the mean best test accuracy, a whisker at mean +- std over the runs (none for a single run,
 * labelled n=1 instead), and the paper's value as a black tick. Dots, not bars: the axis does
 * not start at zero (the differences between regimes are a few points near 100%), and a bar's
 * length would then mislead. Regimes keep the paper's column order: FRNPF (II), FRNPF (DI),
 * DNPFL, FLNPF, ReLU.
 */
import { archLabel, datasetLabel, optimizerLabel, regimeLabel, regimeOf } from '../science/labels.js';
import { TABLE2_REGIMES } from '../science/regimes.js';
import type { Table2Cell } from './figure-data.js';
import { BASE_CONFIG, SCHEMA, paddedDomain, regimeColorScale, requireFinite, requireNonEmpty, requireString, type Figure } from './figure-common.js';

const FIGURE = 'table2';

function regimeRank(regime: string): number {
  const r = regimeOf(regime);
  const i = r === undefined ? -1 : TABLE2_REGIMES.indexOf(r);
  return i < 0 ? TABLE2_REGIMES.length : i;
}

export interface Table2FigureOptions {
  title?: string;
}

/** Pure: the vega-lite spec of Table 2 (grouped dots at the mean, +- std whiskers, paper ticks). */
export function buildTable2Figure(cells: readonly Table2Cell[] | undefined, opts: Table2FigureOptions = {}): Figure {
  const rows = requireNonEmpty(FIGURE, 'table2', cells).map((c, i) => {
    const at = `table2[${i}]`;
    const mean = requireFinite(FIGURE, `${at}.mean`, c.mean);
    const std = requireFinite(FIGURE, `${at}.std`, c.std);
    if (c.paper !== undefined) requireFinite(FIGURE, `${at}.paper`, c.paper);
    const regime = regimeLabel(requireString(FIGURE, `${at}.regime`, c.regime));
    return {
      group: `${archLabel(requireString(FIGURE, `${at}.arch`, c.arch))} ${optimizerLabel(requireString(FIGURE, `${at}.optimizer`, c.optimizer))} (${datasetLabel(requireString(FIGURE, `${at}.dataset`, c.dataset))})${c.variant ? ` ${c.variant}` : ''}`,
      regime,
      rank: regimeRank(c.regime),
      mean,
      lo: mean - std,
      hi: mean + std,
      n: c.n,
      single: c.n === 1,
      paper: c.paper ?? null,
    };
  });
  const groups = [...new Set(rows.map((r) => r.group))];
  const regimes = [...new Map(rows.map((r) => [r.regime, r.rank])).entries()].sort((a, b) => a[1] - b[1]).map(([r]) => r);
  const values = rows.flatMap((r) => [r.lo, r.hi, ...(r.paper !== null ? [r.paper] : [])]);
  const domain = paddedDomain(values, 1);
  const runs = [...new Set(rows.map((r) => r.n))].join('/');
  const x = { field: 'group', type: 'nominal' as const, sort: groups, title: null, axis: { labelAngle: 0, labelLimit: 400 } };
  const xOffset = { field: 'regime', type: 'nominal' as const, sort: regimes };
  const y = { type: 'quantitative' as const, scale: { domain, zero: false }, title: 'best test accuracy (%)' };
  return {
    name: FIGURE,
    spec: {
      $schema: SCHEMA,
      title: {
        text: opts.title ? `Table 2: ${opts.title}` : 'Table 2: test accuracy by regime',
        subtitle: `dots: mean, whiskers: +- std over ${runs} runs (none for n=1); black ticks: paper`,
      },
      width: Math.max(240, groups.length * regimes.length * 22),
      height: 300,
      data: { values: rows },
      encoding: { x, xOffset },
      layer: [
        {
          transform: [{ filter: '!datum.single' }],
          mark: { type: 'rule', strokeWidth: 1.5, color: '#444' },
          encoding: { y: { ...y, field: 'lo' }, y2: { field: 'hi' } },
        },
        {
          mark: { type: 'point', filled: true, size: 90, opacity: 1, clip: true },
          encoding: {
            y: { ...y, field: 'mean' },
            color: { field: 'regime', type: 'nominal', sort: regimes, title: 'regime', scale: regimeColorScale(regimes) },
            tooltip: [
              { field: 'group', type: 'nominal' },
              { field: 'regime', type: 'nominal' },
              { field: 'mean', type: 'quantitative', format: '.2f' },
              { field: 'n', type: 'quantitative' },
              { field: 'paper', type: 'quantitative', format: '.2f' },
            ],
          },
        },
        {
          transform: [{ filter: 'datum.single' }],
          mark: { type: 'text', dy: -10, fontSize: 10, color: '#333' },
          encoding: { y: { ...y, field: 'mean' }, text: { value: 'n=1' } },
        },
        {
          transform: [{ filter: 'datum.paper != null' }],
          mark: { type: 'tick', color: 'black', opacity: 1, thickness: 2.5, size: 14 },
          encoding: { y: { ...y, field: 'paper' } },
        },
      ],
      config: BASE_CONFIG,
    },
  };
}
