/**
 * Figure 2 (left): FLNPF test accuracy when the gates come from the ReLU network after stage
 * k = 0..6 (10 epochs of ReLU training per stage; stage 0 = FRNPF (II)), measured mean +- std
 * against the paper's values, with horizontal reference lines (ReLU 80.32, CNTK 77.43).
 */
import { STAGE_REFERENCES, type ReferenceLine, type StagePoint } from './figure-data.js';
import { BASE_CONFIG, SCHEMA, paddedDomain, requireFinite, requireNonEmpty, requireString, type Figure } from './figure-common.js';

const FIGURE = 'stages';
const MEASURED = 'measured (mean +- std)';
const PAPER = 'paper (Figure 2)';

export interface StagesFigureOptions {
  title?: string;
  /** Default: ReLU 80.32 and CNTK 77.43. Pass [] for none. */
  references?: readonly ReferenceLine[];
}

/** Pure: the vega-lite spec of Figure 2 (left). */
export function buildStagesFigure(points: readonly StagePoint[] | undefined, opts: StagesFigureOptions = {}): Figure {
  const pts = requireNonEmpty(FIGURE, 'stages.points', points);
  const refs = (opts.references ?? STAGE_REFERENCES).map((r, i) => ({
    label: requireString(FIGURE, `stages.references[${i}].label`, r.label),
    value: requireFinite(FIGURE, `stages.references[${i}].value`, r.value),
  }));
  const rows: Array<{ stage: number; series: string; mean: number; lo: number; hi: number }> = [];
  pts.forEach((p, i) => {
    const stage = requireFinite(FIGURE, `stages.points[${i}].stage`, p.stage);
    const mean = requireFinite(FIGURE, `stages.points[${i}].mean`, p.mean);
    const std = requireFinite(FIGURE, `stages.points[${i}].std`, p.std);
    rows.push({ stage, series: MEASURED, mean, lo: mean - std, hi: mean + std });
    if (p.paper !== undefined) {
      const paper = requireFinite(FIGURE, `stages.points[${i}].paper`, p.paper);
      rows.push({ stage, series: PAPER, mean: paper, lo: paper, hi: paper });
    }
  });
  rows.sort((a, b) => a.stage - b.stage);
  const stages = [...new Set(rows.map((r) => r.stage))];
  const domain = paddedDomain([...rows.flatMap((r) => [r.lo, r.hi]), ...refs.map((r) => r.value)], 1);
  const maxStage = Math.max(...stages);
  // Only the series that have data appear in the legend (no paper entry outside the paper's setting).
  const series = rows.some((r) => r.series === PAPER) ? [MEASURED, PAPER] : [MEASURED];
  const y = { type: 'quantitative' as const, scale: { domain, zero: false }, title: 'best test accuracy (%)' };
  const color = { field: 'series', type: 'nominal' as const, title: null, scale: { domain: series, range: ['#1f77b4', '#d62728'].slice(0, series.length) }, legend: { orient: 'bottom' as const, direction: 'horizontal' as const } };
  return {
    name: FIGURE,
    spec: {
      $schema: SCHEMA,
      title: { text: opts.title ? `Stages: ${opts.title}` : 'FLNPF accuracy vs. stage of the ReLU gates', subtitle: "stage k: gates from the ReLU run's best weights up to chunk k (0 = FRNPF II)" },
      width: 420,
      height: 300,
      layer: [
        {
          data: { values: rows },
          layer: [
            {
              mark: { type: 'line', point: { size: 50, filled: true } },
              encoding: {
                x: { field: 'stage', type: 'quantitative', title: 'stage', axis: { values: stages, format: 'd' }, scale: { domain: [Math.min(...stages) - 0.3, maxStage + 0.3], nice: false } },
                y: { ...y, field: 'mean' },
                color,
                strokeDash: { field: 'series', type: 'nominal', scale: { domain: series, range: [[1, 0], [5, 3]].slice(0, series.length) } },
              },
            },
            {
              transform: [{ filter: `datum.series === '${MEASURED}'` }],
              mark: { type: 'errorbar', ticks: { size: 8 }, thickness: 1.5 },
              encoding: {
                x: { field: 'stage', type: 'quantitative' },
                y: { ...y, field: 'lo' },
                y2: { field: 'hi' },
                color,
              },
            },
          ],
        },
        ...(refs.length > 0
          ? [
              {
                data: { values: refs },
                layer: [
                  { mark: { type: 'rule' as const, strokeDash: [2, 2], color: '#555' }, encoding: { y: { ...y, field: 'value' } } },
                  {
                    mark: { type: 'text' as const, align: 'left' as const, dx: 4, dy: -6, color: '#333', fontSize: 11 },
                    encoding: { y: { ...y, field: 'value' }, x: { datum: Math.min(...stages) - 0.25, type: 'quantitative' as const }, text: { field: 'label' } },
                  },
                ],
              },
            ]
          : []),
      ],
      config: BASE_CONFIG,
    },
  };
}
