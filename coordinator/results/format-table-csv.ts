/** ResultsTable -> CSV, one line per cell (machine names, numbers unrounded). */
import type { ResultsTable } from './aggregate-table.js';
import { seedList } from './format-cell.js';

const HEADER = [
  'dataset', 'arch', 'optimizer', 'regime', 'lr', 'mean', 'std', 'n', 'expected', 'missing_seeds',
  'diverged', 'failed', 'cancelled', 'pending', 'paper_mean', 'paper_std', 'paper_source', 'diff', 'lr_candidates',
];

function field(v: string | number | null | undefined): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = typeof v === 'number' ? String(Number(v.toPrecision(12))) : v;
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatTableCsv(table: ResultsTable): string {
  const lines = [HEADER.join(',')];
  for (const row of table.rows) {
    for (const c of table.columns) {
      const cell = row.cells[c.regime];
      if (!cell) continue;
      const cands = cell.selection?.candidates.map((k) => `${k.lr}:${k.mean === null ? '' : Number(k.mean.toPrecision(12))}:${k.n}`).join(';');
      lines.push(
        [
          row.dataset, row.arch, row.optimizer, c.regime, cell.lr, cell.mean, cell.std, cell.n, cell.expectedSeeds.length,
          seedList(cell.missingSeeds), cell.diverged, cell.failed, cell.cancelled, cell.pending,
          cell.paper?.mean, cell.paper?.std, cell.paper?.source, cell.diff, cands,
        ]
          .map(field)
          .join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
