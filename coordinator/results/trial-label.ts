/** The human name of one trial, shared by `npf run`'s display, the results and the figures. */
import type { TrialKey } from '../sweep-types.js';

/** 'dnpfl fc adam 0.0003 seed 2' ('stage 3 gconv adam ...' for a stage); the id's first 12 characters without a key. */
export function trialLabel(key: TrialKey | undefined, taskId: string): string {
  if (!key) return taskId.slice(0, 12);
  const regime = key.regime === 'stage' ? `stage ${key.stage}` : key.regime;
  return `${regime} ${key.arch} ${key.optimizer} ${key.lr} seed ${key.seed}`;
}
