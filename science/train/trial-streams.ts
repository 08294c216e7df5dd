/**
 * The random streams of one trial (initial weights, minibatch order), named by purpose and, for
 * the regimes whose gates come from a ReLU checkpoint, by the trial's own identity.
 *
 * Every stream is `rngFor(seed, label)` (science/models/prng.ts). A trial of regime relu,
 * frnpf-ii, frnpf-di, dnpfl or stage 0 uses the plain labels 'value', 'feature' and 'shuffle'.
 * FLNPF and stage k >= 1 use 'value:flnpf', 'shuffle:flnpf' (or ':stage-<k>'): their ReLU parent
 * has the same seed, and with plain labels their value network and head would start from the
 * parent's exact initial weights and see the same minibatch order. The paper's FLNPF (Theorem
 * 4.1, Assumption 1: value weights independent of the feature weights) needs a fresh value
 * network, so the only thing a child shares with its parent is the frozen gates.
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
