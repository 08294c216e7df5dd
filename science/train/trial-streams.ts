/**
 * The random streams of one trial (initial weights, minibatch order), named by purpose and, for
 * a regime whose gates come from a parent checkpoint, by the trial's own identity.
 *
 * Every stream is `rngFor(seed, label)` (science/models/prng.ts). A regime with its own gates
 * uses the plain labels 'value', 'feature' and 'shuffle'. A regime with a `streamScope`
 * (science/regimes.ts: gates from a parent checkpoint) uses 'value:<scope>', 'shuffle:<scope>':
 * its parent has the same seed, and with plain labels its value network and head would start
 * from the parent's exact initial weights and see the same minibatch order. The paper's FLNPF
 * (Theorem 4.1, Assumption 1: value weights independent of the feature weights) needs a fresh
 * value network, so the only thing a dependant shares with its parent is the frozen gates
 * (docs/protocol.md, "Random streams").
 */
import { rngFor, type Rng } from '../models/prng.js';
import type { RegimePlan } from '../regimes.js';

export type StreamPurpose = 'value' | 'feature' | 'shuffle';

/** The stream label of `purpose` for a trial of `regime`: 'value', or 'value:flnpf' etc. */
export function streamLabel(purpose: StreamPurpose, regime: Pick<RegimePlan, 'streamScope'>): string {
  return regime.streamScope ? `${purpose}:${regime.streamScope}` : purpose;
}

/** The trial's stream for `purpose`. */
export function trialRng(seed: number, purpose: StreamPurpose, regime: Pick<RegimePlan, 'streamScope'>): Rng {
  return rngFor(seed, streamLabel(purpose, regime));
}
