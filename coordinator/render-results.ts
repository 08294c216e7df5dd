/** GetResults: a sweep's stored TrialResults rendered as a table. */
import { InvalidRequestError } from './errors.js';
import type { SweepCoordinator } from './sweep-coordinator.js';

export const RESULT_FORMATS = ['markdown', 'md', 'csv', 'json', 'latex'] as const;

export function renderSweepResults(core: SweepCoordinator, sweepId: string, format: string): { table: string; complete: boolean } {
  if (!(RESULT_FORMATS as readonly string[]).includes(format)) {
    throw new InvalidRequestError(`unknown results format '${format}' (expected markdown, csv, json or latex)`);
  }
  const outcomes = core.outcomes(sweepId);
  const complete = outcomes.every((o) => o.status !== 'pending');
  // TODO(results module): replaced by coordinator/results aggregate + formatters when they land.
  return { table: JSON.stringify(outcomes.map((o) => ({ key: o.key, status: o.status, best: o.result?.bestTestAccuracy })), null, 2), complete };
}
