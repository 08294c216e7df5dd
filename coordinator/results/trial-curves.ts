/** Test accuracy per epoch of each trial with a result: the per-trial curves of results.json and the figures. */
import type { TrialOutcome } from '../sweep-types.js';
import { trialLabel } from './trial-label.js';

export interface TrialCurveJson {
  taskId: string;
  /** e.g. 'dnpfl fc adam 0.0003 seed 2'. */
  label: string;
  /** The regime, 'stage k' for a stage trial. */
  regime: string;
  /** Test accuracy in percent per finished epoch. */
  points: Array<{ epoch: number; testAccuracy: number }>;
}

export function trialCurvesOf(outcomes: readonly TrialOutcome[]): TrialCurveJson[] {
  return outcomes
    .filter((o) => o.result && o.result.epochs.length > 0)
    .map((o) => ({
      taskId: o.taskId,
      label: trialLabel(o.key, o.taskId),
      regime: o.key.regime === 'stage' ? `stage ${o.key.stage ?? 0}` : o.key.regime,
      points: o.result!.epochs.map((e) => ({ epoch: e.epoch, testAccuracy: Number((e.testAccuracy * 100).toFixed(6)) })),
    }));
}
