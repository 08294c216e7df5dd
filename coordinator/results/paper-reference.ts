/**
 * The paper's reference numbers (data/paper/table2.csv, data/paper/stages.csv), parsed from
 * text (pure) and looked up by trial key: the one reader of these files, for the results table
 * and the figures alike (load-paper-reference.ts reads the files).
 */
import { InvalidInputError } from '../../common/errors.js';
import { archLabel, archOf, datasetLabel, datasetOf, optimizerLabel, optimizerOf, regimePaperLabel } from '../../science/labels.js';

export type PaperSource = 'paper' | 'notebooks';

/** One Table 2 value: test accuracy %, mean +- std over 5 runs. */
export interface PaperCell {
  source: PaperSource;
  arch: string; // FC | VCONV | GCONV
  optimizer: string; // SGD | Adam
  dataset: string; // MNIST | CIFAR-10
  regime: string; // FRNPF-II | FRNPF-DI | DNPFL | FLNPF | ReLU
  mean: number;
  std: number;
}

/** Figure 2 (left): FLNPF test accuracy % at stage k; `exact` false where read off the plot. */
export interface PaperStage {
  stage: number;
  mean: number;
  exact: boolean;
}

export interface PaperReference {
  table2: PaperCell[];
  stages: PaperStage[];
}

/** Figure 2 (left) reference line: convolutional NTK on CIFAR-10 (paper text). */
export const PAPER_CNTK_ACCURACY = 77.43;

function rowsOf(text: string, file: string, header: readonly string[]): Array<Record<string, string>> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const cols = (lines[0] ?? '').split(',').map((c) => c.trim());
  for (const h of header) {
    if (!cols.includes(h)) throw new InvalidInputError(`${file}:1: missing column '${h}' (have ${cols.join(', ')})`, { file });
  }
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== cols.length) {
      throw new InvalidInputError(`${file}:${i + 2}: expected ${cols.length} fields, got ${cells.length}`, { file, line: i + 2 });
    }
    return Object.fromEntries(cols.map((c, j) => [c, cells[j]]));
  });
}

function num(v: string, file: string, line: number, field: string): number {
  const x = Number(v);
  if (v === '' || !Number.isFinite(x)) throw new InvalidInputError(`${file}:${line}: ${field}: not a number '${v}'`, { file, line, field });
  return x;
}

export function parseTable2Csv(text: string, file = 'table2.csv'): PaperCell[] {
  return rowsOf(text, file, ['source', 'arch', 'optimizer', 'dataset', 'regime', 'mean', 'std']).map((r, i) => {
    if (r.source !== 'paper' && r.source !== 'notebooks') {
      throw new InvalidInputError(`${file}:${i + 2}: source: expected paper or notebooks, got '${r.source}'`, { file, line: i + 2 });
    }
    return {
      source: r.source,
      arch: r.arch,
      optimizer: r.optimizer,
      dataset: r.dataset,
      regime: r.regime,
      mean: num(r.mean, file, i + 2, 'mean'),
      std: num(r.std, file, i + 2, 'std'),
    };
  });
}

export function parseStagesCsv(text: string, file = 'stages.csv'): PaperStage[] {
  return rowsOf(text, file, ['stage', 'flnpf_mean', 'exact']).map((r, i) => ({
    stage: num(r.stage, file, i + 2, 'stage'),
    mean: num(r.flnpf_mean, file, i + 2, 'flnpf_mean'),
    exact: r.exact === 'yes',
  }));
}

/**
 * The paper's value for a Table 2 cell, matched by arch (FC/VCONV/GCONV), optimiser (SGD/Adam),
 * dataset (MNIST/CIFAR-10) and regime, each in any spelling ('gconv' or 'GCONV', 'frnpf-ii' or
 * 'FRNPF (II)'). Falls back to the other source when the chosen one lacks it.
 */
export function lookupPaperCell(
  table2: readonly PaperCell[],
  key: { dataset: string; arch: string; optimizer: string; regime: string },
  source: PaperSource = 'paper',
): PaperCell | undefined {
  const regime = regimePaperLabel(key.regime);
  if (!regime) return undefined;
  const match = (c: PaperCell) =>
    archLabel(c.arch) === archLabel(key.arch) &&
    optimizerLabel(c.optimizer) === optimizerLabel(key.optimizer) &&
    datasetLabel(c.dataset) === datasetLabel(key.dataset) &&
    c.regime === regime;
  return table2.find((c) => c.source === source && match(c)) ?? table2.find(match);
}

/** The paper's stages figure was GCONV / Adam / CIFAR-10; its values apply to that group only. */
export function isPaperStagesSetting(key: { dataset: string; arch: string; optimizer: string }): boolean {
  return archOf(key.arch) === 'gconv' && optimizerOf(key.optimizer) === 'adam' && datasetOf(key.dataset) === 'cifar10';
}
