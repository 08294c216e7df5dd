/**
 * Retention of history: what a long-lived coordinator prunes so that its database does not grow
 * with every epoch of every sweep it ever ran. For sweeps finished (not running) and idle for
 * longer than the retention, the 'task.progress' events are deleted (one per epoch of each
 * trial: the bulk of the event log; the lifecycle events stay, and the curves are in the
 * results); the epoch records (progress rows) of tasks finished that long ago, in no running
 * sweep, are deleted too, and so are the workers not seen for that long that hold no lease (one
 * that comes back registers again). Running sweeps are never touched. Whole sweeps and their artifacts
 * go with `npf gc` (coordinator/gc.ts), which prunes the same way.
 */
import type { HousekeepingSql } from '../store/housekeeping.js';
import type { CoreContext } from './context.js';

export interface PruneReport {
  /** Finished sweeps whose progress events were pruned. */
  sweeps: number;
  /** Progress events deleted. */
  events: number;
  /** Progress rows (epoch records) deleted. */
  progressRows: number;
  /** Workers deleted (not seen within the retention, holding no lease). */
  workers: number;
}

/** Whether `pruneWithinWrite(hk, cutoffMs)` would delete anything (reads only). */
export function anythingToPrune(hk: HousekeepingSql, cutoffMs: number): boolean {
  return hk.finishedBefore(cutoffMs).length > 0 || hk.hasFinishedProgress(cutoffMs) || hk.hasGoneWorkers(cutoffMs);
}

/** Prune what finished before `cutoffMs`; call inside a write. */
export function pruneWithinWrite(hk: HousekeepingSql, cutoffMs: number): PruneReport {
  const sweeps = hk.finishedBefore(cutoffMs);
  let events = 0;
  for (const s of sweeps) events += hk.deleteProgressEvents(s);
  return { sweeps: sweeps.length, events, progressRows: hk.deleteFinishedProgress(cutoffMs), workers: hk.deleteGoneWorkers(cutoffMs) };
}

/** Prune the history older than `retentionMs` (before now - retentionMs), in one write; no write when there is nothing to prune. */
export function pruneHistory(c: CoreContext, retentionMs: number): Promise<PruneReport> {
  const cutoff = c.opts.now() - retentionMs;
  const hk = c.store.housekeeping;
  if (!anythingToPrune(hk, cutoff)) return Promise.resolve({ sweeps: 0, events: 0, progressRows: 0, workers: 0 });
  return c.life.write(() => pruneWithinWrite(hk, cutoff));
}
