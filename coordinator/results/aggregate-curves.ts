/**
 * Per-epoch curves over seeds for the figure code (pure): nu_t (Figure 2 middle, from
 * result.npk) and the NTK split of DNPFL (result.ntkSplit), each as mean +- std over the
 * finished seeds at every measured epoch.
 */
import type { TrialKey, TrialOutcome } from '../sweep-types.js';
import type { NpkPoint, NtkSplitPoint } from '../../science/types.js';
import { effectiveStatus, mean, std, type StdConvention } from './seed-stats.js';

export interface CurveStat {
  mean: number;
  std: number | null;
  n: number;
}

/** The trial key without its seed: one curve per group. */
export type CurveGroupKey = Omit<TrialKey, 'seed'>;

export interface NpkCurvePoint {
  epoch: number;
  /**
   * nu_t = y^T H_hat^-1 y over the seeds where it is defined (n of them; mean NaN when none).
   * An undefined value (y in H_hat's null space) or a ridge-regularised one from an older result
   * is never averaged in.
   */
  nu: CurveStat;
  /** Seeds measured at this epoch (nu.n of them gave a defined nu). */
  measured: number;
  /** Seeds where nu was undefined at this epoch (including legacy ridge values). */
  undefinedSeeds: number[];
  /** Seeds whose defined nu came from the pseudo-inverse (H_hat singular, y in its range). */
  pseudoInverseSeeds: number[];
  conditionNumber: CurveStat;
}

export interface NpkCurve {
  key: CurveGroupKey;
  seeds: number[];
  points: NpkCurvePoint[];
}

export interface NtkSplitCurvePoint {
  epoch: number;
  /** Which scalar output was differentiated (e.g. 'true-class-logit'); several if seeds disagree. */
  outputs: string[];
  valueTrace: CurveStat;
  valueFrobenius: CurveStat;
  featureTrace: CurveStat;
  featureFrobenius: CurveStat;
}

export interface NtkSplitCurve {
  key: CurveGroupKey;
  seeds: number[];
  points: NtkSplitCurvePoint[];
}

function groupBySeedless<T>(
  outcomes: readonly TrialOutcome[],
  pick: (o: TrialOutcome) => T[] | undefined,
): Array<{ key: CurveGroupKey; runs: Array<{ seed: number; points: T[] }> }> {
  const groups = new Map<string, { key: CurveGroupKey; runs: Array<{ seed: number; points: T[] }> }>();
  for (const o of outcomes) {
    if (effectiveStatus(o) !== 'succeeded') continue;
    const points = pick(o);
    if (!points || points.length === 0) continue;
    const { seed, ...rest } = o.key;
    const key: CurveGroupKey = { ...rest };
    const id = JSON.stringify([key.dataset, key.arch, key.optimizer, key.lr, key.regime, key.stage ?? null]);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { key, runs: [] }));
    if (!g.runs.some((r) => r.seed === seed)) g.runs.push({ seed, points });
  }
  return [...groups.values()].map((g) => ({ ...g, runs: g.runs.sort((a, b) => a.seed - b.seed) }));
}

function stat(xs: number[], convention: StdConvention): CurveStat {
  return { mean: mean(xs) ?? NaN, std: std(xs, convention), n: xs.length };
}

function epochs<T extends { epoch: number }>(runs: Array<{ points: T[] }>): number[] {
  return [...new Set(runs.flatMap((r) => r.points.map((p) => p.epoch)))].sort((a, b) => a - b);
}

/**
 * Whether a point's nu may enter a mean: a finite value from the exact inverse or the
 * pseudo-inverse ('cholesky' is the full-rank method of results stored by earlier versions).
 * 'undefined' and legacy 'ridge' values (a number the ridge made) are left out.
 */
export function nuIsDefined(p: NpkPoint): boolean {
  return (p.method === 'full-rank' || p.method === 'pseudo-inverse' || p.method === 'cholesky') && typeof p.nu === 'number' && Number.isFinite(p.nu);
}

/** nu_t curves: one per (dataset, arch, optimizer, lr, regime[, stage]), mean +- std of nu over seeds per epoch. */
export function aggregateNpkCurves(outcomes: readonly TrialOutcome[], opts: { std?: StdConvention } = {}): NpkCurve[] {
  const convention = opts.std ?? 'population';
  return groupBySeedless<NpkPoint>(outcomes, (o) => o.result?.npk).map(({ key, runs }) => ({
    key,
    seeds: runs.map((r) => r.seed),
    points: epochs(runs).map((epoch) => {
      const at = runs.flatMap((r) => {
        const p = r.points.find((q) => q.epoch === epoch);
        return p ? [{ seed: r.seed, p }] : [];
      });
      const defined = at.filter((x) => nuIsDefined(x.p));
      return {
        epoch,
        nu: stat(defined.map((x) => x.p.nu as number), convention),
        measured: at.length,
        undefinedSeeds: at.filter((x) => !nuIsDefined(x.p)).map((x) => x.seed),
        pseudoInverseSeeds: defined.filter((x) => x.p.method === 'pseudo-inverse').map((x) => x.seed),
        conditionNumber: stat(at.map((x) => x.p.conditionNumber), convention),
      };
    }),
  }));
}

/** NTK-split curves (DNPFL): mean +- std over seeds of trace / Frobenius norm of K_v and K_phi per epoch. */
export function aggregateNtkSplitCurves(outcomes: readonly TrialOutcome[], opts: { std?: StdConvention } = {}): NtkSplitCurve[] {
  const convention = opts.std ?? 'population';
  return groupBySeedless<NtkSplitPoint>(outcomes, (o) => o.result?.ntkSplit).map(({ key, runs }) => ({
    key,
    seeds: runs.map((r) => r.seed),
    points: epochs(runs).map((epoch) => {
      const at = runs.map((r) => r.points.find((p) => p.epoch === epoch)).filter((p): p is NtkSplitPoint => !!p);
      return {
        epoch,
        outputs: [...new Set(at.map((p) => p.output))].sort(),
        valueTrace: stat(at.map((p) => p.valueTrace), convention),
        valueFrobenius: stat(at.map((p) => p.valueFrobenius), convention),
        featureTrace: stat(at.map((p) => p.featureTrace), convention),
        featureFrobenius: stat(at.map((p) => p.featureFrobenius), convention),
      };
    }),
  }));
}
