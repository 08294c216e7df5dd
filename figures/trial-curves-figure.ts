/**
 * Test accuracy per epoch of every trial: one line per trial with a dot at each epoch, coloured
 * by regime (paper order). The dots keep a 1-epoch sweep (one point per trial) visible.
 */
import { regimeLabel, regimeOf } from '../science/labels.js';
import { TABLE2_REGIMES } from '../science/regimes.js';
import type { TrialCurve } from './figure-data.js';
import { BASE_CONFIG, SCHEMA, paddedDomain, regimeColorScale, requireFinite, requireNonEmpty, requireString, type Figure } from './figure-common.js';

const FIGURE = 'trial-curves';

export interface TrialCurvesFigureOptions {
  title?: string;
}

/** Pure: the vega-lite spec of per-trial test-accuracy curves. */
export function buildTrialCurvesFigure(trials: readonly TrialCurve[] | undefined, opts: TrialCurvesFigureOptions = {}): Figure {
  const rows = requireNonEmpty(FIGURE, 'trials', trials).flatMap((t, i) => {
    const label = requireString(FIGURE, `trials[${i}].label`, t.label);
    const regime = regimeLabel(requireString(FIGURE, `trials[${i}].regime`, t.regime));
    const known = regimeOf(t.regime);
    const rank = known === undefined ? -1 : TABLE2_REGIMES.indexOf(known);
    return requireNonEmpty(FIGURE, `trials[${i}].points`, t.points).map((p, j) => ({
      trial: label,
      regime,
      rank,
      epoch: requireFinite(FIGURE, `trials[${i}].points[${j}].epoch`, p.epoch),
      acc: requireFinite(FIGURE, `trials[${i}].points[${j}].testAccuracy`, p.testAccuracy),
    }));
  });
  const regimes = [...new Map(rows.map((r) => [r.regime, r.rank < 0 ? 99 : r.rank])).entries()].sort((a, b) => a[1] - b[1]).map(([r]) => r);
  return {
    name: FIGURE,
    spec: {
      $schema: SCHEMA,
      title: { text: opts.title ? `Test accuracy per trial: ${opts.title}` : 'Test accuracy per trial', subtitle: `${trials!.length} trials, one line each, a dot per epoch` },
      width: 460,
      height: 300,
      data: { values: rows },
      mark: { type: 'line', strokeWidth: 1.3, opacity: 0.85, point: { filled: true, size: 28 } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
        y: { field: 'acc', type: 'quantitative', title: 'test accuracy (%)', scale: { domain: paddedDomain(rows.map((r) => r.acc), 1), zero: false } },
        color: { field: 'regime', type: 'nominal', sort: regimes, title: 'regime', scale: regimeColorScale(regimes) },
        detail: { field: 'trial', type: 'nominal' },
        tooltip: [{ field: 'trial', type: 'nominal' }, { field: 'epoch', type: 'quantitative' }, { field: 'acc', type: 'quantitative', format: '.2f' }],
      },
      config: BASE_CONFIG,
    },
  };
}
