/** The aggregation options a sweep spec implies (pure): its seeds are the expected ones, `select` picks the step size. */
import { seedsOf, type SweepSpec } from '../sweep-spec/sweep-schema.js';
import type { AggregateOptions } from './aggregate-table.js';
import type { PaperReference } from './paper-reference.js';

/**
 * - expectedSeeds: the spec's seeds, so a seed that never reported shows as missing;
 * - select: 'best-mean' when the spec asks for `select: { metric: mean, over: lr }` or has one
 *   step size per optimiser; 'none' (a row per step size) when it lists several without `select`.
 */
export function aggregateOptionsFor(spec: Pick<SweepSpec, 'axes' | 'select' | 'report'>, paper?: PaperReference): AggregateOptions {
  const severalLrs = spec.axes.optimizers.some((o) => new Set(o.lrs).size > 1);
  return {
    expectedSeeds: [...new Set(seedsOf(spec))],
    select: spec.select || !severalLrs ? 'best-mean' : 'none',
    ...(spec.report?.std ? { std: spec.report.std } : {}),
    ...(paper ? { paper: paper.table2 } : {}),
  };
}
