/** ResultsTable -> Markdown shaped like the paper's Table 2, a "paper" line under each row. */
import type { ResultsTable, TableCell } from './aggregate-table.js';
import { bookkeeping, fmtLr, fmt, fmtDiff, meanStd, stdName } from './format-cell.js';

function ours(cell: TableCell | null): string {
  if (!cell) return '';
  return `${meanStd(cell.mean, cell.std, cell.n)} (${bookkeeping(cell, cell.selection ? cell.lr : undefined)})`;
}

function paper(cell: TableCell | null): string {
  if (!cell?.paper) return '';
  const d = fmtDiff(cell.diff);
  return `${fmt(cell.paper.mean)} ± ${fmt(cell.paper.std)}${d ? ` (Δ ${d})` : ''}`;
}

/**
 * One Markdown table cell: a line break would end the row and raw HTML would render, so
 * backslash and | are escaped, & < > written as entities, and control characters (line breaks
 * included) become spaces.
 */
export function esc(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

export function formatTableMarkdown(table: ResultsTable, opts: { title?: string } = {}): string {
  const head = ['Arch', 'Optimiser', 'Dataset', ...(table.select === 'none' ? ['lr'] : []), ...table.columns.map((c) => c.label)];
  const lines: string[] = [];
  if (opts.title) lines.push(`### ${esc(opts.title)}`, '');
  lines.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < head.length - table.columns.length ? '---' : '---:')).join('|')}|`);
  for (const row of table.rows) {
    const lead = [row.labels.arch, row.labels.optimizer, row.labels.dataset, ...(table.select === 'none' ? [fmtLr(row.lr ?? NaN)] : [])];
    lines.push(`| ${[...lead, ...table.columns.map((c) => ours(row.cells[c.regime]))].map(esc).join(' | ')} |`);
    if (table.columns.some((c) => row.cells[c.regime]?.paper)) {
      const blank = lead.map(() => '');
      blank[2] = `*paper${table.paperSource === 'notebooks' ? ' (notebooks)' : ''}*`;
      lines.push(`| ${[...blank, ...table.columns.map((c) => paper(row.cells[c.regime]))].map(esc).join(' | ')} |`);
    }
  }
  lines.push('');
  lines.push(
    `Test accuracy (%): per run the best over epochs, then mean ± ${stdName(table.std)} over seeds; n = finished seeds` +
      (table.paperSource ? '; Δ = ours − paper (percentage points).' : '.'),
  );
  const choices: string[] = [];
  for (const row of table.rows) {
    for (const c of table.columns) {
      const sel = row.cells[c.regime]?.selection;
      if (!sel) continue;
      const cands = sel.candidates
        .map((k) => `${fmtLr(k.lr)}: ${meanStd(k.mean, k.std, k.n)} n=${k.n}${k.diverged ? `, ${k.diverged} diverged` : ''}`)
        .join('; ');
      choices.push(`- ${esc(`${row.labels.arch} / ${row.labels.optimizer} / ${row.labels.dataset} / ${c.label}`)}: lr ${fmtLr(sel.chosen)} (${cands})`);
    }
  }
  if (choices.length > 0) {
    lines.push('', 'Step size chosen per cell by the best mean over seeds (step sizes with a diverged seed rank last):', ...choices);
  }
  return `${lines.join('\n')}\n`;
}
