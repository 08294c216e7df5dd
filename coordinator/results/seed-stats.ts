/**
 * Statistics over seeds, the paper's way: per run the best test accuracy over epochs, then the
 * mean and the population standard deviation (ddof = 0) over runs (docs/protocol.md, "Reported metric").
 */
import type { TrialOutcome } from '../sweep-types.js';

export type StdConvention = 'population' | 'sample';

export function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Standard deviation with ddof 0 (population) or 1 (sample); null when undefined (no data, or n = 1 for sample). */
export function std(xs: readonly number[], convention: StdConvention = 'population'): number | null {
  const m = mean(xs);
  const ddof = convention === 'population' ? 0 : 1;
  if (m === null || xs.length - ddof <= 0) return null;
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - ddof));
}

/** mean +- std of best test accuracy (in %) over the seeds of one cell, with the bookkeeping of what is missing. */
export interface SeedStats {
  /** Percent; null when no seed finished. */
  mean: number | null;
  std: number | null;
  /** Seeds that finished (succeeded with a result). */
  n: number;
  /** Best test accuracy (%) of each finished seed, in `seeds` order. */
  values: number[];
  seeds: number[];
  expectedSeeds: number[];
  /** Expected seeds without a finished result (pending, running, failed, diverged or never submitted). */
  missingSeeds: number[];
  diverged: number;
  failed: number;
  cancelled: number;
  pending: number;
}

/** Effective status: a 'succeeded' outcome whose result says diverged counts as diverged. */
export function effectiveStatus(o: TrialOutcome): TrialOutcome['status'] {
  if (o.status === 'succeeded') {
    if (!o.result) return 'failed';
    if (o.result.status === 'diverged') return 'diverged';
    if (o.result.status === 'cancelled') return 'cancelled';
  }
  return o.status;
}

/**
 * Reduce the outcomes of one cell (same dataset/arch/optimizer/lr/regime[/stage]). Diverged runs
 * are counted but left out of the mean: their accuracy is that of a run cut short.
 * `expectedSeeds` defaults to every seed that has an outcome in the cell.
 */
export function seedStats(outcomes: readonly TrialOutcome[], convention: StdConvention, expectedSeeds?: readonly number[]): SeedStats {
  const bySeed = new Map<number, TrialOutcome>();
  // One outcome per seed: a finished one wins over an unfinished duplicate.
  for (const o of [...outcomes].sort((a, b) => a.key.seed - b.key.seed)) {
    const prev = bySeed.get(o.key.seed);
    if (!prev || (effectiveStatus(prev) !== 'succeeded' && effectiveStatus(o) === 'succeeded')) bySeed.set(o.key.seed, o);
  }
  const seeds: number[] = [];
  const values: number[] = [];
  let diverged = 0;
  let failed = 0;
  let cancelled = 0;
  let pending = 0;
  for (const [seed, o] of [...bySeed].sort((a, b) => a[0] - b[0])) {
    const s = effectiveStatus(o);
    if (s === 'succeeded') {
      seeds.push(seed);
      values.push(o.result!.bestTestAccuracy * 100);
    } else if (s === 'diverged') diverged++;
    else if (s === 'failed') failed++;
    else if (s === 'cancelled') cancelled++;
    else pending++;
  }
  const expected = [...new Set(expectedSeeds ?? [...bySeed.keys()])].sort((a, b) => a - b);
  const done = new Set(seeds);
  return {
    mean: mean(values),
    std: std(values, convention),
    n: values.length,
    values,
    seeds,
    expectedSeeds: expected,
    missingSeeds: expected.filter((s) => !done.has(s)),
    diverged,
    failed,
    cancelled,
    pending,
  };
}
