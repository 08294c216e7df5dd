/**
 * The files of one sweep's folder, written the same way by `npf run` (into
 * <data-dir>/sweeps/<sweep-id>/) and by `npf results --out DIR` (from a local directory or a
 * coordinator), so `npf plot <folder>` works after either:
 *
 *   sweep.json            the sweep's id, name, state, counts, spec file and overrides
 *   spec.resolved.yaml    the sweep spec resolved (defaults applied, variables substituted)
 *   results.md|.tex       Table 2 (and the stages table) as printed
 *   results.csv           Table 2, one row per cell (a stages-only sweep: the stages table)
 *   stages.csv            the stages table (sweeps with stage trials)
 *   trials.csv            one row per trial (coordinator/results/format-tidy-csv.ts)
 *   epochs.csv            one row per trial and epoch
 *   results.json          everything above, and the curves the figures draw
 *   figures/, figures-input.json   the figures (figures/sweep-figures.ts)
 */
import { mkdirSync, lstatSync, readlinkSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { describeError } from '../common/errors.js';
import type { ReportFormat } from '../coordinator/results/render-report.js';
import { writeSweepFigures } from '../figures/sweep-figures.js';

/** A sweep as the folder's sweep.json records it. */
export interface SweepMeta {
  sweepId: string;
  name: string;
  state: string;
  createdAtMs: number;
  counts?: Record<string, number>;
  /** The spec file it was submitted from, and its overrides. */
  fileName?: string;
  overrides?: readonly string[];
  /** The spec resolved (defaults, variables), when it still parses. */
  resolvedSpec?: unknown;
}

/** The table files and the format each is rendered in. */
const TABLE_FILES: ReadonlyArray<[string, ReportFormat]> = [
  ['results.md', 'markdown'],
  ['results.csv', 'csv'],
  ['results.tex', 'latex'],
  ['results.json', 'json'],
  ['trials.csv', 'trials-csv'],
  ['epochs.csv', 'epochs-csv'],
];

const withNewline = (text: string): string => (text.endsWith('\n') ? text : `${text}\n`);

/** Write sweep.json and spec.resolved.yaml: what identifies the folder's sweep. */
export function writeSweepMeta(dir: string, meta: SweepMeta): void {
  mkdirSync(dir, { recursive: true });
  const { resolvedSpec, ...rest } = meta;
  const doc = { v: 1, ...rest, createdAt: new Date(meta.createdAtMs).toISOString(), writtenAt: new Date().toISOString() };
  writeFileSync(join(dir, 'sweep.json'), `${JSON.stringify(doc, null, 2)}\n`);
  if (resolvedSpec !== undefined) {
    const head = `# Sweep '${meta.name}' (${meta.sweepId}) as resolved from ${meta.fileName ?? 'its spec'}${meta.overrides?.length ? ` with ${meta.overrides.join(' ')}` : ''}.\n`;
    writeFileSync(join(dir, 'spec.resolved.yaml'), head + YAML.stringify(resolvedSpec));
  }
}

export interface WrittenOutputs {
  /** Files written, in the folder. */
  files: string[];
  /** PNGs drawn, or why none were (a drawing problem is reported, never fatal). */
  figures: string[] | { error: string };
}

/**
 * Write the sweep's folder: its meta, every table and the figures (when a trial has a result).
 * `render` gives the text of one report format (rendered locally or fetched from a coordinator).
 */
export async function writeSweepOutputs(dir: string, meta: SweepMeta, render: (format: ReportFormat) => Promise<string> | string, finishedTrials: number): Promise<WrittenOutputs> {
  writeSweepMeta(dir, meta);
  const files = ['sweep.json', ...(meta.resolvedSpec !== undefined ? ['spec.resolved.yaml'] : [])];
  let json = '';
  for (const [file, format] of TABLE_FILES) {
    const text = await render(format);
    writeFileSync(join(dir, file), withNewline(text));
    files.push(file);
    if (format === 'json') json = text;
  }
  const hasStages = ((JSON.parse(json) as { stages?: { groups?: unknown[] } }).stages?.groups?.length ?? 0) > 0;
  if (hasStages) {
    writeFileSync(join(dir, 'stages.csv'), withNewline(await render('stages-csv')));
    files.push('stages.csv');
  }
  let figures: WrittenOutputs['figures'] = [];
  if (finishedTrials > 0) {
    try {
      figures = await writeSweepFigures(dir, json);
    } catch (err) {
      figures = { error: describeError(err) };
    }
  }
  return { files, figures };
}

/** A file-name-safe form of a sweep's name ('' when nothing is left). */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 80);
}

/**
 * `<sweepsDir>/<name>` -> `<sweep-id>`: the sweep's human name in the folder listing, pointing
 * at its newest folder. Left alone when the name is taken by something that is not such a link.
 */
export function linkSweepName(sweepsDir: string, name: string, sweepId: string): void {
  const link = safeName(name);
  if (!link || link === sweepId || link.startsWith('sw-')) return;
  const path = join(sweepsDir, link);
  try {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st) {
      if (!st.isSymbolicLink()) return;
      if (readlinkSync(path) === sweepId) return;
      unlinkSync(path);
    }
    symlinkSync(sweepId, path, 'dir');
  } catch {
    // A convenience only: a file system without symbolic links keeps the id folders.
  }
}
