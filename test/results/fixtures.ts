/** Small hand-made outcomes for the results tests. */
import type { TrialKey, TrialOutcome } from '../../coordinator/sweep-types.js';
import type { TrialResult } from '../../science/types.js';

let counter = 0;

export function result(bestTestAccuracy: number, extra: Partial<TrialResult> = {}): TrialResult {
  return {
    status: 'succeeded',
    backend: 'cpu',
    bestTestAccuracy,
    bestEpoch: 1,
    finalTestAccuracy: bestTestAccuracy,
    epochs: [],
    checkpoints: [],
    wallMs: 1,
    ...extra,
  };
}

export function outcome(key: Partial<TrialKey> & { regime: string; seed: number }, status: TrialOutcome['status'], acc?: number, extra: Partial<TrialResult> = {}): TrialOutcome {
  counter += 1;
  const full: TrialKey = { dataset: 'mnist', arch: 'fc', optimizer: 'sgd', lr: 0.01, ...key };
  const o: TrialOutcome = { taskId: `t${counter}`, key: full, status };
  if (acc !== undefined) o.result = result(acc, { ...(status === 'diverged' ? { status: 'diverged', divergedAtEpoch: 3 } : {}), ...extra });
  return o;
}
