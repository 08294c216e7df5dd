/**
 * File shell of `npf plot`: find and read a sweep's figure data, either results.json (from
 * `npf run`, adapted by from-results-json.ts) or figures-input.json (figures-input.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FigureDataError } from './errors.js';
import type { FiguresInput } from './figure-data.js';
import { parseFiguresInput } from './figures-input.js';
import { figuresInputFromResults } from './from-results-json.js';

/** True when the parsed JSON looks like results.json (Table 2 as { rows }, or curve arrays). */
export function isResultsJson(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null) return false;
  const o = raw as Record<string, unknown>;
  return (o.table2 !== undefined && !Array.isArray(o.table2)) || o.npkCurves !== undefined || o.ntkSplitCurves !== undefined || o.trialCurves !== undefined;
}

/** Parse either format from its text. */
export function parseFigureSource(text: string, file: string, title?: string): FiguresInput {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FigureDataError(`${file}: not valid JSON (${(err as Error).message})`, { file }, { cause: err });
  }
  if (isResultsJson(raw)) return figuresInputFromResults(raw, file, title);
  const input = parseFiguresInput(text, file);
  return title && !input.title ? { ...input, title } : input;
}

/**
 * The figure data of a sweep directory: `input` when given, else <dir>/figures-input.json, else
 * <dir>/results.json. Title defaults to the directory's name.
 */
export function loadSweepFigureData(sweepDir: string, input?: string): { file: string; data: FiguresInput } {
  if (!existsSync(sweepDir)) throw new FigureDataError(`sweep directory not found: ${sweepDir}`, { file: sweepDir });
  const candidates = input ? [input] : [join(sweepDir, 'figures-input.json'), join(sweepDir, 'results.json')];
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    throw new FigureDataError(
      input ? `figure data file not found: ${input}` : `no results.json or figures-input.json in ${sweepDir} (run 'npf run' first, or pass --input)`,
      { file: input ?? sweepDir },
    );
  }
  return { file, data: parseFigureSource(readFileSync(file, 'utf8'), file, basename(sweepDir)) };
}
