/** ResultsTable -> CSV, one line per cell (machine names; accuracies in % to 6 decimals, step sizes as given). */
import type { ResultsTable } from './aggregate-table.js';
import { csvField as field } from './csv-field.js';
import { seedList } from './format-cell.js';

const HEADER = [
  'dataset', 'arch', 'optimizer', 'regime', 'lr', 'mean', 'std', 'n', 'expected', 'missing_seeds',
  'diverged', 'failed', 'cancelled', 'pending', 'paper_mean', 'paper_std', 'paper_source', 'diff', 'lr_candidates',
];


/** Percentages to 6 decimals: drops float noise (0.00999999999999) without losing anything measured. */
export function pct(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(6));
}

export function formatTableCsv(table: ResultsTable): string {
  const lines = [HEADER.join(',')];
  for (const row of table.rows) {
    for (const c of table.columns) {
      const cell = row.cells[c.regime];
      if (!cell) continue;
      const cands = cell.selection?.candidates.map((k) => `${k.lr}:${pct(k.mean) ?? ''}:${k.n}`).join(';');
      lines.push(
        [
          row.dataset, row.arch, row.optimizer, c.regime, cell.lr, pct(cell.mean), pct(cell.std), cell.n, cell.expectedSeeds.length,
          seedList(cell.missingSeeds), cell.diverged, cell.failed, cell.cancelled, cell.pending,
          cell.paper?.mean, cell.paper?.std, cell.paper?.source, pct(cell.diff), cands,
        ]
          .map(field)
          .join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
