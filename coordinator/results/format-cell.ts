/** Text of one results cell, shared by the Markdown, CSV and LaTeX formatters. */
import type { SeedStats } from './seed-stats.js';

/** 2 decimals, as in the paper. */
export function fmt(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '' : x.toFixed(2);
}

/** '+0.12' / '-0.12' (percentage points). */
export function fmtDiff(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '';
  const s = x.toFixed(2);
  return x >= 0 && !s.startsWith('-') ? `+${s}` : s === '-0.00' ? '+0.00' : s;
}

/** A step size as written in specs: 0.1, 0.01, 0.0003. */
export function fmtLr(lr: number): string {
  return String(lr);
}

/**
 * '97.85 ± 0.09'; '97.85' when std is undefined or the mean is of a single run (n = 1: a spread
 * of one value means nothing, and the bookkeeping beside it says n=1); '—' with no finished seed.
 */
export function meanStd(mean: number | null, std: number | null, n?: number, pm = '±'): string {
  if (mean === null) return '—';
  return std === null || n === 1 ? fmt(mean) : `${fmt(mean)} ${pm} ${fmt(std)}`;
}

/**
 * The bookkeeping in parentheses: 'n=5', or 'n=3/5; missing seeds 3, 4; 1 diverged; 1 failed',
 * plus the chosen step size when several were compared.
 */
export function bookkeeping(s: SeedStats, chosenLr?: number): string {
  const parts: string[] = [];
  parts.push(s.expectedSeeds.length > s.n ? `n=${s.n}/${s.expectedSeeds.length}` : `n=${s.n}`);
  if (s.missingSeeds.length > 0) parts.push(`missing seed${s.missingSeeds.length > 1 ? 's' : ''} ${s.missingSeeds.join(', ')}`);
  if (s.diverged > 0) parts.push(`${s.diverged} diverged`);
  if (s.failed > 0) parts.push(`${s.failed} failed`);
  if (s.cancelled > 0) parts.push(`${s.cancelled} cancelled`);
  if (s.pending > 0) parts.push(`${s.pending} pending`);
  if (chosenLr !== undefined) parts.push(`lr ${fmtLr(chosenLr)}`);
  return parts.join('; ');
}

/** Seeds in CSV: '3;4'. */
export function seedList(seeds: readonly number[]): string {
  return seeds.join(';');
}

export function stdName(convention: 'population' | 'sample'): string {
  return convention === 'population' ? 'population std (ddof=0)' : 'sample std (ddof=1)';
}
