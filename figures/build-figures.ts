/**
 * Pure: every figure that has data in a FiguresInput, with the paper's values filled in from
 * the reference CSVs where the input has none.
 */
import { FigureDataError } from './errors.js';
import type { FiguresInput, Table2Cell, StagePoint } from './figure-data.js';
import type { Figure } from './figure-common.js';
import { lookupPaperCell, type PaperReference } from '../coordinator/results/paper-reference.js';
import { buildNtkSplitFigure } from './ntk-split-figure.js';
import { buildNuFigure } from './nu-figure.js';
import { buildStagesFigure } from './stages-figure.js';
import { buildTable2Figure } from './table2-figure.js';
import { buildTrialCurvesFigure } from './trial-curves-figure.js';

/** 'GCONV Adam (CIFAR-10)' -> 'gconv-adam-cifar-10'. */
export function slug(label: string): string {
  return label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
}

function hasData(item: object): boolean {
  const o = item as { points?: unknown[]; series?: unknown[] };
  return (o.points?.length ?? 0) > 0 || (o.series?.length ?? 0) > 0;
}

export const FIGURE_FIELDS = ['table2', 'stages', 'nu', 'ntkSplit', 'trials'] as const;

/** Fill `paper` of each Table 2 cell from the paper's table (source 'paper'), where known. */
export function withPaperTable2(cells: readonly Table2Cell[], paper?: PaperReference): Table2Cell[] {
  if (!paper) return [...cells];
  return cells.map((c) => (c.paper !== undefined ? c : { ...c, paper: lookupPaperCell(paper.table2, c, 'paper')?.mean }));
}

/** Fill `paper` of each stage point from stages.csv, where known. */
export function withPaperStages(points: readonly StagePoint[], paper?: PaperReference, paperSetting?: boolean): StagePoint[] {
  if (!paper || paperSetting === false) return [...points];
  const byStage = new Map(paper.stages.map((s) => [s.stage, s.mean]));
  return points.map((p) => (p.paper !== undefined ? p : { ...p, paper: byStage.get(p.stage) }));
}

/**
 * Build the figures present in `input` (a field absent or empty is skipped). Throws one
 * FigureDataError when none has data, or naming the first bad field.
 */
export function buildFigures(input: FiguresInput, paper?: PaperReference, source = 'figure data'): Figure[] {
  const title = input.title;
  const figures: Figure[] = [];
  if (input.table2?.length) figures.push(buildTable2Figure(withPaperTable2(input.table2, paper), { title }));
  const many = <T extends { label?: string }>(items: readonly T[] | undefined, base: string, build: (item: T, title: string | undefined) => Figure): void => {
    const list = (items ?? []).filter((it) => hasData(it));
    list.forEach((it, i) => {
      const suffix = list.length > 1 ? `-${slug(it.label ?? String(i + 1))}` : '';
      const t = [title, it.label].filter(Boolean).join(', ') || undefined;
      const fig = build(it, t);
      figures.push({ ...fig, name: `${base}${suffix}` });
    });
  };
  many(input.stages, 'stages', (s, t) => buildStagesFigure(withPaperStages(s.points, paper, s.paperSetting), { title: t, references: s.references }));
  many(input.nu, 'nu', (n, t) => buildNuFigure(n.points, { title: t, undefinedEpochs: n.undefinedEpochs }));
  many(input.ntkSplit, 'ntk-split', (n, t) => buildNtkSplitFigure(n.series, { title: t }));
  if (input.trials?.length) figures.push(buildTrialCurvesFigure(input.trials, { title }));
  if (figures.length === 0) {
    throw new FigureDataError(`${source}: nothing to plot (none of ${FIGURE_FIELDS.join(', ')} has data)`, { source });
  }
  return figures;
}
