/** A trial's identity: the same spec and parent give the same id in every sweep and on every resubmit. */
import { createHash } from 'node:crypto';
import type { TrialSpec } from '../../science/types.js';
import { canonicalJson } from './canonical-json.js';

/** sha256 (hex) of the canonical JSON of { spec, parent } (parent omitted when absent). */
export function taskIdOf(spec: TrialSpec, parent?: { taskId: string; checkpoint: string }): string {
  return createHash('sha256').update(canonicalJson({ spec, parent })).digest('hex');
}
