/** Pure: a sweep's line on the dashboard (counts, elapsed time, ETA). */
import type { SweepSummary, TaskStateName } from './api-types.js';
import type { SweepRecord } from './data-source.js';

const TERMINAL: readonly TaskStateName[] = ['succeeded', 'failed', 'cancelled'];

/**
 * Time left: the mean wall time of the sweep's succeeded attempts times the trials still open,
 * divided by the trials running now (at least 1). Null before any trial finished; 0 when none is open.
 */
export function estimateEtaMs(counts: Record<TaskStateName, number>, succeededMs: readonly number[]): number | null {
  const open = counts.blocked + counts.pending + counts.leased + counts.running;
  if (open === 0) return 0;
  if (succeededMs.length === 0) return null;
  const mean = succeededMs.reduce((a, b) => a + b, 0) / succeededMs.length;
  const inFlight = Math.max(1, counts.leased + counts.running);
  // A running trial is on average half done.
  return Math.round((mean * (open - inFlight / 2)) / inFlight);
}

export function sweepSummary(s: SweepRecord, succeededMs: readonly number[], nowMs: number): SweepSummary {
  const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
  const done = TERMINAL.reduce((a, st) => a + s.counts[st], 0);
  const running = s.state === 'running' || s.state === 'cancelling';
  const end = running ? nowMs : (s.lastEventMs ?? nowMs);
  return {
    sweepId: s.sweepId,
    name: s.name,
    fileName: s.fileName,
    state: s.state,
    createdAtMs: s.createdAtMs,
    elapsedMs: Math.max(0, end - s.createdAtMs),
    etaMs: running ? estimateEtaMs(s.counts, succeededMs) : 0,
    counts: s.counts,
    total,
    done,
    cellsTotal: s.cellsTotal,
  };
}
