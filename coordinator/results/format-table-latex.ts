/** ResultsTable -> a LaTeX (booktabs) tabular like the paper's Table 2, with a "paper" line per row. */
import type { ResultsTable, TableCell } from './aggregate-table.js';
import { fmt, fmtDiff, fmtLr } from './format-cell.js';

const TEX: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '^': '\\textasciicircum{}',
  '~': '\\textasciitilde{}',
  '<': '\\textless{}',
  '>': '\\textgreater{}',
  '|': '\\textbar{}',
};

/**
 * Text as LaTeX that prints it and runs nothing: every special character escaped in one pass
 * (\\ ^ ~ and & % $ # _ { }), so `\\input{...}` or `\\write18` print as text; control
 * characters (line breaks included) become spaces.
 */
export function tex(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/[\\^~<>|&%$#_{}]/g, (c) => TEX[c] ?? `\\${c}`);
}

function ours(cell: TableCell | null): string {
  if (!cell) return '';
  if (cell.mean === null) return `--\\,{\\scriptsize(n=0/${cell.expectedSeeds.length})}`;
  // A single run has no spread to show: no ±, and the note says n=1.
  let s = cell.std === null || cell.n === 1 ? `$${fmt(cell.mean)}$` : `$${fmt(cell.mean)} \\pm ${fmt(cell.std)}$`;
  const notes: string[] = [];
  if (cell.n < cell.expectedSeeds.length) notes.push(`n=${cell.n}/${cell.expectedSeeds.length}`);
  else if (cell.n === 1) notes.push('n=1');
  if (cell.selection) notes.push(`$\\eta$=${fmtLr(cell.lr)}`);
  if (notes.length > 0) s += `\\,{\\scriptsize(${notes.join(', ')})}`;
  return s;
}

function paper(cell: TableCell | null): string {
  if (!cell?.paper) return '';
  const d = fmtDiff(cell.diff);
  return `$${fmt(cell.paper.mean)} \\pm ${fmt(cell.paper.std)}$${d ? `\\,{\\scriptsize(${d})}` : ''}`;
}

export function formatTableLatex(table: ResultsTable): string {
  const lead = table.select === 'none' ? 4 : 3;
  const lines = [
    `\\begin{tabular}{${'l'.repeat(lead)}${'r'.repeat(table.columns.length)}}`,
    '\\toprule',
    `${['Arch', 'Optimiser', 'Dataset', ...(lead === 4 ? ['$\\eta$'] : []), ...table.columns.map((c) => tex(c.label))].join(' & ')} \\\\`,
    '\\midrule',
  ];
  for (const row of table.rows) {
    const first = [tex(row.labels.arch), tex(row.labels.optimizer), tex(row.labels.dataset), ...(lead === 4 ? [fmtLr(row.lr ?? NaN)] : [])];
    lines.push(`${[...first, ...table.columns.map((c) => ours(row.cells[c.regime]))].join(' & ')} \\\\`);
    if (table.columns.some((c) => row.cells[c.regime]?.paper)) {
      const blank = first.map(() => '');
      blank[2] = '\\textit{paper}';
      lines.push(`${[...blank, ...table.columns.map((c) => paper(row.cells[c.regime]))].join(' & ')} \\\\`);
    }
  }
  lines.push('\\bottomrule', '\\end{tabular}');
  return `${lines.join('\n')}\n`;
}
