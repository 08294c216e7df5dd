/**
 * The paper's reference numbers shipped in data/paper/ (table2.csv, stages.csv), read for the
 * figures' "paper" series. Pure parsing plus one file-reading shell function.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FigureDataError } from './errors.js';
import { normalizeRegime } from './figure-data.js';

export interface PaperTable2Row {
  source: string;
  arch: string;
  optimizer: string;
  dataset: string;
  regime: string;
  mean: number;
  std: number;
}

export interface PaperStageRow {
  stage: number;
  mean: number;
  /** 'yes' when printed in the paper, 'read-off' when read off Figure 2. */
  exact: string;
}

function parseCsv(text: string, file: string, columns: readonly string[]): Array<Record<string, string>> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  for (const c of columns) {
    if (!header.includes(c)) throw new FigureDataError(`${file}: missing column '${c}' (header: ${header.join(',')})`, { file, column: c });
  }
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== header.length) throw new FigureDataError(`${file}:${i + 2}: expected ${header.length} fields, got ${cells.length}`, { file, line: i + 2 });
    return Object.fromEntries(header.map((h, j) => [h, cells[j]!]));
  });
}

function num(file: string, line: number, field: string, value: string): number {
  const v = Number(value);
  if (value === '' || !Number.isFinite(v)) throw new FigureDataError(`${file}:${line}: field '${field}' is not a number: '${value}'`, { file, line, field });
  return v;
}

export function parsePaperTable2(text: string, file = 'table2.csv'): PaperTable2Row[] {
  return parseCsv(text, file, ['source', 'arch', 'optimizer', 'dataset', 'regime', 'mean', 'std']).map((r, i) => ({
    source: r.source!,
    arch: r.arch!,
    optimizer: r.optimizer!,
    dataset: r.dataset!,
    regime: r.regime!,
    mean: num(file, i + 2, 'mean', r.mean!),
    std: num(file, i + 2, 'std', r.std!),
  }));
}

export function parsePaperStages(text: string, file = 'stages.csv'): PaperStageRow[] {
  return parseCsv(text, file, ['stage', 'flnpf_mean', 'exact']).map((r, i) => ({
    stage: num(file, i + 2, 'stage', r.stage!),
    mean: num(file, i + 2, 'flnpf_mean', r.flnpf_mean!),
    exact: r.exact!,
  }));
}

/** 'CIFAR-10' / 'cifar10' -> 'cifar10'. */
function normalizeName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Key of a Table 2 cell for matching measured cells to the paper's. */
export function table2Key(c: { arch: string; optimizer: string; dataset: string; regime: string }): string {
  return [normalizeName(c.arch), normalizeName(c.optimizer), normalizeName(c.dataset), normalizeRegime(c.regime)].join('/');
}

/** Map table2Key -> paper mean, for one source ('paper' or 'notebooks'). */
export function paperTable2Means(rows: readonly PaperTable2Row[], source = 'paper'): Map<string, number> {
  return new Map(rows.filter((r) => r.source === source).map((r) => [table2Key(r), r.mean]));
}

/** data/paper of this checkout, found upward from this module (works from source and from dist/). */
export function defaultPaperDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'data', 'paper');
    if (existsSync(join(candidate, 'table2.csv'))) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

export interface PaperReference {
  table2: PaperTable2Row[];
  stages: PaperStageRow[];
}

/** Read data/paper/{table2,stages}.csv from `dir`. */
export function loadPaperReference(dir: string): PaperReference {
  const read = (f: string): string => {
    const p = join(dir, f);
    if (!existsSync(p)) throw new FigureDataError(`paper reference file not found: ${p}`, { file: p });
    return readFileSync(p, 'utf8');
  };
  return { table2: parsePaperTable2(read('table2.csv'), join(dir, 'table2.csv')), stages: parsePaperStages(read('stages.csv'), join(dir, 'stages.csv')) };
}
