/**
 * The regimes of the paper, defined once: Table 2's columns (ReLU, FRNPF (II), FRNPF (DI), DNPFL,
 * FLNPF) and the stages of Figure 2 (left). Every list of regimes (the TrialSpec type, the zod
 * enums of trial and sweep specs, the results table's columns, the figures' legend) and every
 * question about one ("where do its gates come from, does it need a ReLU parent and which of
 * its checkpoints, may it measure the NTK split") is derived from `DEFINITIONS` below.
 * docs/protocol.md describes each regime and cites the paper.
 */
import { InvalidInputError } from '../common/errors.js';

/** Every regime's name, in the order messages list them. */
export const REGIMES = ['relu', 'frnpf-ii', 'frnpf-di', 'dnpfl', 'flnpf', 'stage'] as const;

export type Regime = (typeof REGIMES)[number];

/** The regime of the parent trials whose checkpoints give FLNPF and stage k >= 1 their gates. */
export const PARENT_REGIME = 'relu' satisfies Regime;

/** ReLU epochs per stage: stage k takes the ReLU run's best-so-far weights at epoch k * 10 (Figure 2 left). */
export const DEFAULT_STAGE_EVERY = 10;

/** The checkpoint of a ReLU parent trial that gives a dependant its gates. */
export interface ParentCheckpoint {
  /** The checkpoint's name: 'best' or 'best@<epoch>'. */
  name: string;
  /** Best-so-far weights as of this epoch; absent: the best over the whole run. */
  atEpoch?: number;
}

/** A regime turned into plain data once; nothing downstream asks for the regime's name again. */
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
  /** For featureSource 'checkpoint': which checkpoint of the ReLU parent trial gives the gates. */
  parentCheckpoint?: ParentCheckpoint;
  /**
   * For featureSource 'checkpoint': the trial's own identity ('flnpf', 'stage-<k>'), mixed into
   * the names of its random streams (train/trial-streams.ts). A ReLU parent and its dependant
   * share the seed; this keeps the dependant's value network, head and minibatch order
   * independent of the parent's, so only the gates are shared (docs/protocol.md).
   */
  streamScope?: string;
}

type Gates = Omit<RegimePlan, 'regime' | 'trainsFeature' | 'streamScope'>;

interface RegimeDefinition {
  /** The paper's spelling (Table 2 header, figure legend). */
  label: string;
  /** A column of Table 2: its position and its name in data/paper/table2.csv. */
  table2?: { column: number; paperName: string };
  /** Takes a stage number k (the stages experiment). */
  staged?: boolean;
  /** The feature network trains (so the NTK splits into value and feature parts). */
  trainsFeature: boolean;
  /** Where the gates come from, for stage `k` (0 for a regime without stages). */
  gates(k: number, stageEvery: number): Gates;
}

const OWN_INIT: Gates = { gating: 'hard', featureSource: 'own-init' };

const DEFINITIONS: { readonly [R in Regime]: RegimeDefinition } = {
  relu: { label: 'ReLU', table2: { column: 4, paperName: 'ReLU' }, trainsFeature: false, gates: () => ({ gating: 'self', featureSource: 'none' }) },
  'frnpf-ii': { label: 'FRNPF (II)', table2: { column: 0, paperName: 'FRNPF-II' }, trainsFeature: false, gates: () => OWN_INIT },
  'frnpf-di': {
    label: 'FRNPF (DI)',
    table2: { column: 1, paperName: 'FRNPF-DI' },
    trainsFeature: false,
    gates: () => ({ gating: 'hard', featureSource: 'value-init' }),
  },
  dnpfl: { label: 'DNPFL', table2: { column: 2, paperName: 'DNPFL' }, trainsFeature: true, gates: () => ({ gating: 'soft', featureSource: 'own-init' }) },
  flnpf: {
    label: 'FLNPF',
    table2: { column: 3, paperName: 'FLNPF' },
    trainsFeature: false,
    gates: () => ({ gating: 'hard', featureSource: 'checkpoint', parentCheckpoint: { name: 'best' } }),
  },
  stage: {
    label: 'Stage',
    staged: true,
    trainsFeature: false,
    // Stage 0 is FRNPF (II); stage k >= 1 copies the ReLU run's best-so-far weights at epoch k * stageEvery.
    gates: (k, every) =>
      k === 0 ? OWN_INIT : { gating: 'hard', featureSource: 'checkpoint', parentCheckpoint: { name: `best@${k * every}`, atEpoch: k * every } },
  },
};

/** Table 2's columns, in the paper's order (FRNPF (II), FRNPF (DI), DNPFL, FLNPF, ReLU). */
export const TABLE2_REGIMES: readonly Regime[] = REGIMES.filter((r) => DEFINITIONS[r].table2).sort(
  (a, b) => DEFINITIONS[a].table2!.column - DEFINITIONS[b].table2!.column,
);

/** Regimes whose trials may measure the NTK split: those with a trainable feature network (DNPFL). */
export const NTK_SPLIT_REGIMES: readonly Regime[] = REGIMES.filter((r) => DEFINITIONS[r].trainsFeature);

export function isRegime(name: string): name is Regime {
  return (REGIMES as readonly string[]).includes(name);
}

/** The regime takes a stage number k (regime 'stage'). */
export function isStaged(regime: Regime): boolean {
  return DEFINITIONS[regime].staged === true;
}

/** The paper's spelling of a regime ('frnpf-ii' -> 'FRNPF (II)'). */
export function regimeDisplayName(regime: Regime): string {
  return DEFINITIONS[regime].label;
}

/** The regime's name in data/paper/table2.csv, or undefined outside Table 2. */
export function regimePaperName(regime: Regime): string | undefined {
  return DEFINITIONS[regime].table2?.paperName;
}

/** Whether trials of `regime` may measure the NTK split (K_v and K_phi need a trainable feature network). */
export function measuresNtkSplit(regime: Regime): boolean {
  return DEFINITIONS[regime].trainsFeature;
}

/** Why a regime cannot measure the NTK split, for error messages. */
export const NTK_SPLIT_NEEDS = `the NTK split (K_v, K_phi) needs regime ${NTK_SPLIT_REGIMES.join(' or ')}: other regimes have no trainable feature network`;

/**
 * The plan of `regime` (stage k for a staged regime). Throws InvalidInputError for a staged
 * regime without a whole stage number k >= 0.
 */
export function planRegime(regime: Regime, stage?: number, stageEvery = DEFAULT_STAGE_EVERY): RegimePlan {
  const def = DEFINITIONS[regime];
  let k = 0;
  if (def.staged) {
    if (stage === undefined || !Number.isInteger(stage) || stage < 0) {
      throw new InvalidInputError(`regime '${regime}' needs a stage number k >= 0, got ${String(stage)}`, { field: 'stage' });
    }
    k = stage;
  }
  const gates = def.gates(k, stageEvery);
  const streamScope = gates.featureSource === 'checkpoint' ? (def.staged ? `${regime}-${k}` : regime) : undefined;
  return { regime, ...gates, trainsFeature: def.trainsFeature, ...(streamScope ? { streamScope } : {}) };
}

/**
 * Does `regime` (stage k) need a ReLU parent trial, and which of its checkpoints: FLNPF takes
 * 'best', stage k >= 1 takes 'best@<k * stageEvery>'; undefined for every other regime.
 */
export function parentCheckpoint(regime: Regime, stage?: number, stageEvery = DEFAULT_STAGE_EVERY): ParentCheckpoint | undefined {
  return planRegime(regime, isStaged(regime) ? (stage ?? 0) : undefined, stageEvery).parentCheckpoint;
}
