/**
 * What each regime of Table 2 (and the stages of Figure 2) means for the network: where the
 * gates come from and which weights train. Pure data; the model builder follows it.
 */
import type { Regime } from '../types.js';
import { InvalidInputError } from '../../common/errors.js';

export interface RegimePlan {
  regime: Regime;
  /**
   * - 'self': a standard ReLU network (its gates are its own 1[q > 0]).
   * - 'hard': a DGN with hard gates from a frozen feature network.
   * - 'soft': a DGN with soft gates from a trainable feature network (DNPFL).
   */
  gating: 'self' | 'hard' | 'soft';
  /**
   * Where the feature network's weights come from:
   * - 'none' (ReLU), 'own-init' (FRNPF-II, DNPFL, stage 0): its own random init,
   * - 'value-init' (FRNPF-DI): a copy of the value network's initial weights,
   * - 'checkpoint' (FLNPF, stage k >= 1): hidden layers of a ReLU checkpoint.
   */
  featureSource: 'none' | 'own-init' | 'value-init' | 'checkpoint';
  trainsFeature: boolean;
  /** For stage k >= 1: the checkpoint name its gates should come from, 'best@<k * stageEvery>'. */
  expectedCheckpoint?: string;
}

/** The plan of `regime` (stage k for regime 'stage'). */
export function planRegime(regime: Regime, stage?: number, stageEvery = 10): RegimePlan {
  switch (regime) {
    case 'relu':
      return { regime, gating: 'self', featureSource: 'none', trainsFeature: false };
    case 'frnpf-ii':
      return { regime, gating: 'hard', featureSource: 'own-init', trainsFeature: false };
    case 'frnpf-di':
      return { regime, gating: 'hard', featureSource: 'value-init', trainsFeature: false };
    case 'dnpfl':
      return { regime, gating: 'soft', featureSource: 'own-init', trainsFeature: true };
    case 'flnpf':
      return { regime, gating: 'hard', featureSource: 'checkpoint', trainsFeature: false, expectedCheckpoint: 'best' };
    case 'stage': {
      if (stage === undefined || !Number.isInteger(stage) || stage < 0) {
        throw new InvalidInputError(`regime 'stage' needs a stage number k >= 0, got ${String(stage)}`, { field: 'stage' });
      }
      if (stage === 0) return { regime, gating: 'hard', featureSource: 'own-init', trainsFeature: false };
      return { regime, gating: 'hard', featureSource: 'checkpoint', trainsFeature: false, expectedCheckpoint: `best@${stageEvery * stage}` };
    }
  }
}
