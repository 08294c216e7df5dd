/**
 * Trial outcomes -> the paper's Table 2 (pure). Rows (arch, optimiser, dataset), columns the
 * regimes in Table 2's order, each cell mean +- std over seeds of the best test accuracy (%),
 * with n, missing seeds and failed/diverged counts, and the paper's value beside it.
 *
 * Select-then-report (paper, Section 5: "we tried constant step-sizes in {0.1, 0.01, 0.001} and
 * chose the best"): where a (dataset, arch, optimiser, regime) has several step sizes, the one
 * with the highest mean over seeds is reported and the choice recorded with every candidate.
 */
import type { TrialOutcome } from '../sweep-types.js';
import { archLabel, datasetLabel, optimizerLabel, regimeLabel } from '../../science/labels.js';
import { TABLE2_REGIMES } from '../../science/regimes.js';
import { compareRows } from './row-order.js';
import { lookupPaperCell, type PaperCell, type PaperSource } from './paper-reference.js';
import { seedStats, type SeedStats, type StdConvention } from './seed-stats.js';

export interface AggregateOptions {
  /** Standard deviation over seeds: 'population' (ddof 0, the paper's convention; default) or 'sample' (ddof 1). */
  std?: StdConvention;
  /** 'best-mean' (default): one row per (dataset, arch, optimiser), best step size per cell. 'none': one row per step size. */
  select?: 'best-mean' | 'none';
  /** Seeds every cell should have (default: the seeds that have an outcome in that cell). */
  expectedSeeds?: readonly number[];
  /** The paper's Table 2 values (data/paper/table2.csv); omit for no comparison. */
  paper?: readonly PaperCell[];
  /** Which reference to compare with where both exist (default 'paper'; 'notebooks' differs on GCONV/Adam). */
  paperSource?: PaperSource;
  /** Columns, in order (default Table 2's, TABLE2_REGIMES of science/regimes.ts). */
  regimes?: readonly string[];
}

/** One step size considered for a cell. */
export interface LrCandidate {
  lr: number;
  mean: number | null;
  std: number | null;
  n: number;
  diverged: number;
  failed: number;
}

/** The record of a select-then-report choice. */
export interface LrSelection {
  chosen: number;
  /** The rule: highest mean over finished seeds; a step size with a diverged seed ranks below any without. */
  rule: 'best-mean';
  candidates: LrCandidate[];
}

export interface TableCell extends SeedStats {
  lr: number;
  /** Present when several step sizes were compared. */
  selection?: LrSelection;
  paper?: { mean: number; std: number; source: PaperSource };
  /** ours - paper, in percentage points (null without either). */
  diff?: number | null;
}

export interface TableRow {
  dataset: string;
  arch: string;
  optimizer: string;
  /** Only with select 'none'. */
  lr?: number;
  labels: { dataset: string; arch: string; optimizer: string };
  /** By regime; null where the sweep has no trial for that column. */
  cells: Record<string, TableCell | null>;
}

export interface ResultsTable {
  columns: Array<{ regime: string; label: string }>;
  rows: TableRow[];
  std: StdConvention;
  select: 'best-mean' | 'none';
  paperSource: PaperSource | null;
}

const keySep = '\u0000';

/** Aggregate outcomes into Table 2 (stage outcomes go to aggregateStages instead). */
export function aggregate(outcomes: readonly TrialOutcome[], opts: AggregateOptions = {}): ResultsTable {
  const convention = opts.std ?? 'population';
  const select = opts.select ?? 'best-mean';
  const regimes = opts.regimes ?? TABLE2_REGIMES;
  const paperSource = opts.paperSource ?? 'paper';

  // row -> regime -> lr -> outcomes
  const rows = new Map<string, { dataset: string; arch: string; optimizer: string; lr?: number; byRegime: Map<string, Map<number, TrialOutcome[]>> }>();
  for (const o of outcomes) {
    if (!regimes.includes(o.key.regime)) continue;
    const lrPart = select === 'none' ? o.key.lr : undefined;
    const rk = [o.key.dataset, o.key.arch, o.key.optimizer, lrPart ?? ''].join(keySep);
    let row = rows.get(rk);
    if (!row) {
      row = { dataset: o.key.dataset, arch: o.key.arch, optimizer: o.key.optimizer, lr: lrPart, byRegime: new Map() };
      rows.set(rk, row);
    }
    let byLr = row.byRegime.get(o.key.regime);
    if (!byLr) row.byRegime.set(o.key.regime, (byLr = new Map()));
    const list = byLr.get(o.key.lr) ?? [];
    list.push(o);
    byLr.set(o.key.lr, list);
  }

  const out: TableRow[] = [];
  for (const row of rows.values()) {
    const cells: Record<string, TableCell | null> = {};
    for (const regime of regimes) {
      const byLr = row.byRegime.get(regime);
      if (!byLr) {
        cells[regime] = null;
        continue;
      }
      const perLr = [...byLr].map(([lr, os]) => ({ lr, stats: seedStats(os, convention, opts.expectedSeeds) }));
      const chosen = chooseLr(perLr);
      const cell: TableCell = { ...chosen.stats, lr: chosen.lr };
      if (perLr.length > 1) {
        cell.selection = {
          chosen: chosen.lr,
          rule: 'best-mean',
          candidates: [...perLr]
            .sort((a, b) => b.lr - a.lr)
            .map(({ lr, stats }) => ({ lr, mean: stats.mean, std: stats.std, n: stats.n, diverged: stats.diverged, failed: stats.failed })),
        };
      }
      if (opts.paper) {
        const p = lookupPaperCell(opts.paper, { ...row, regime }, paperSource);
        if (p) {
          cell.paper = { mean: p.mean, std: p.std, source: p.source };
          cell.diff = cell.mean === null ? null : cell.mean - p.mean;
        }
      }
      cells[regime] = cell;
    }
    out.push({
      dataset: row.dataset,
      arch: row.arch,
      optimizer: row.optimizer,
      ...(row.lr !== undefined ? { lr: row.lr } : {}),
      labels: { dataset: datasetLabel(row.dataset), arch: archLabel(row.arch), optimizer: optimizerLabel(row.optimizer) },
      cells,
    });
  }
  out.sort(compareRows);
  return {
    columns: regimes.map((r) => ({ regime: r, label: regimeLabel(r) })),
    rows: out,
    std: convention,
    select,
    paperSource: opts.paper ? paperSource : null,
  };
}

/**
 * Best step size by mean over finished seeds. Step sizes where a seed diverged rank below those
 * where none did (a diverging step size is not "best" on the survivors alone); then higher mean,
 * then more finished seeds, then the smaller step size. With nothing finished, the largest lr is shown.
 */
export function chooseLr<T extends { lr: number; stats: SeedStats }>(perLr: readonly T[]): T {
  const ranked = [...perLr].sort((a, b) => {
    const aHas = a.stats.mean !== null ? 0 : 1;
    const bHas = b.stats.mean !== null ? 0 : 1;
    if (aHas !== bHas) return aHas - bHas;
    const aDiv = a.stats.diverged > 0 ? 1 : 0;
    const bDiv = b.stats.diverged > 0 ? 1 : 0;
    if (aDiv !== bDiv) return aDiv - bDiv;
    const dm = (b.stats.mean ?? 0) - (a.stats.mean ?? 0);
    if (dm !== 0) return dm;
    return b.stats.n - a.stats.n || (aHas ? b.lr - a.lr : a.lr - b.lr);
  });
  return ranked[0];
}
