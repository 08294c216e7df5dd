/** StagesTable -> Markdown and CSV (Figure 2 left as a table: one line per stage). */
import type { StagesTable } from './aggregate-stages.js';
import { pct } from './format-table-csv.js';
import { bookkeeping, fmt, fmtDiff, fmtLr, meanStd, seedList, stdName } from './format-cell.js';

export function formatStagesMarkdown(table: StagesTable): string {
  const lines: string[] = [];
  for (const g of table.groups) {
    lines.push(`### Stages: ${g.labels.arch} / ${g.labels.optimizer} ${fmtLr(g.lr)} / ${g.labels.dataset}`, '');
    const hasPaper = g.stages.some((s) => s.paper);
    lines.push(hasPaper ? '| Stage | FLNPF | Paper | Δ |' : '| Stage | FLNPF |', hasPaper ? '|---:|---:|---:|---:|' : '|---:|---:|');
    for (const s of g.stages) {
      const cell = `${meanStd(s.mean, s.std, s.n)} (${bookkeeping(s)})`;
      const label = s.stage === 0 ? '0 (FRNPF II)' : String(s.stage);
      if (hasPaper) lines.push(`| ${label} | ${cell} | ${s.paper ? `${s.paper.exact ? '' : '~'}${fmt(s.paper.mean)}` : ''} | ${fmtDiff(s.diff)} |`);
      else lines.push(`| ${label} | ${cell} |`);
    }
    lines.push('');
    if (g.relu) lines.push(`ReLU (the stages' parent): ${meanStd(g.relu.mean, g.relu.std, g.relu.n)} (${bookkeeping(g.relu)})`);
    if (g.paperLines) {
      lines.push(`Paper reference lines: CNTK ${fmt(g.paperLines.cntk)}${g.paperLines.relu !== undefined ? `, ReLU ${fmt(g.paperLines.relu)}` : ''}; ~ = read off the figure.`);
    }
    lines.push('');
  }
  lines.push(`Test accuracy (%): per run the best over epochs, then mean ± ${stdName(table.std)} over seeds.`);
  return `${lines.join('\n')}\n`;
}

export function formatStagesCsv(table: StagesTable): string {
  const lines = ['dataset,arch,optimizer,lr,stage,mean,std,n,expected,missing_seeds,diverged,failed,paper_mean,paper_exact,diff'];
  const f = (v: number | null | undefined) => String(pct(v) ?? '');
  for (const g of table.groups) {
    for (const s of g.stages) {
      lines.push(
        [g.dataset, g.arch, g.optimizer, g.lr, s.stage, f(s.mean), f(s.std), s.n, s.expectedSeeds.length, seedList(s.missingSeeds), s.diverged, s.failed,
          f(s.paper?.mean), s.paper ? (s.paper.exact ? 'yes' : 'read-off') : '', f(s.diff)].join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** StagesTable -> LaTeX (booktabs): one tabular per group, stage / ours / paper. */
export function formatStagesLatex(table: StagesTable): string {
  const out: string[] = [];
  for (const g of table.groups) {
    const hasPaper = g.stages.some((s) => s.paper);
    out.push(`% Stages: ${g.labels.arch} / ${g.labels.optimizer} ${fmtLr(g.lr)} / ${g.labels.dataset}`);
    out.push(`\\begin{tabular}{r r${hasPaper ? ' r' : ''}}`, '\\toprule', `Stage & FLNPF${hasPaper ? ' & paper' : ''} \\\\`, '\\midrule');
    for (const s of g.stages) {
      const ours = s.mean === null ? '--' : s.std === null || s.n === 1 ? `$${fmt(s.mean)}$` : `$${fmt(s.mean)} \\pm ${fmt(s.std)}$`;
      const n = s.n < s.expectedSeeds.length ? `\\,{\\scriptsize(n=${s.n}/${s.expectedSeeds.length})}` : s.n === 1 ? '\\,{\\scriptsize(n=1)}' : '';
      const paper = hasPaper ? ` & ${s.paper ? `${s.paper.exact ? '' : '$\\approx$'}${fmt(s.paper.mean)}` : ''}` : '';
      out.push(`${s.stage} & ${ours}${n}${paper} \\\\`);
    }
    out.push('\\bottomrule', '\\end{tabular}', '');
  }
  return out.join('\n');
}
