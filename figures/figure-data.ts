/**
 * Plain inputs of the paper's figures. The coordinator's aggregator output is adapted to these
 * by the caller (the figures know nothing about sweeps, SQLite or NATS). Accuracies are in
 * PERCENT (0..100), like the paper's tables; `std` is the population standard deviation
 * (ddof = 0) over `n` runs, as in the paper (docs/protocol.md).
 */

/** One cell of Table 2: a regime's mean +- std best test accuracy for one (dataset, arch, optimizer). */
export interface Table2Cell {
  dataset: string;
  /** 'fc' | 'vconv' | 'gconv' (any case). */
  arch: string;
  /** An optimiser's name, in any spelling (science/labels.ts). */
  optimizer: string;
  /** A regime's name ('frnpf-ii'), or its paper spelling ('FRNPF (II)'): science/labels.ts. */
  regime: string;
  mean: number;
  std: number;
  n: number;
  /** The paper's mean for this cell (Table 2), drawn as a black tick. */
  paper?: number;
  /** Extra group label when several rows share (arch, optimizer, dataset), e.g. 'lr 0.01'. */
  variant?: string;
}

/** One point of Figure 2 (left): FLNPF test accuracy with gates from the ReLU net after stage k. */
export interface StagePoint {
  /** 0..6; stage 0 = FRNPF (II). */
  stage: number;
  mean: number;
  std: number;
  n: number;
  /** The paper's value (data/paper/stages.csv). */
  paper?: number;
}

/** A horizontal reference line (Figure 2 left: ReLU 80.32, CNTK 77.43). */
export interface ReferenceLine {
  label: string;
  value: number;
}

/** mean +- std over runs of a quantity measured at one epoch. */
export interface CurvePoint {
  epoch: number;
  mean: number;
  std: number;
  /** Runs the mean is over. */
  n?: number;
  /** Runs measured at this epoch, when some of them gave no value (nu undefined): n of `of`. */
  of?: number;
}

/** One NTK-split series: trace or Frobenius norm of K_v (value-net gradients) or K_phi (feature-net gradients). */
export interface NtkSplitSeries {
  kernel: 'value' | 'feature';
  measure: 'trace' | 'frobenius';
  points: CurvePoint[];
}

/** Test accuracy per epoch of one trial. */
export interface TrialCurve {
  /** Unique per trial, e.g. 'relu seed 0'. */
  label: string;
  regime: string;
  points: Array<{ epoch: number; testAccuracy: number }>;
}

/** One stages figure (one per (dataset, arch, optimizer, lr) group of a sweep). */
export interface StagesInput {
  /** Group label, e.g. 'GCONV Adam CIFAR-10'; names the figure when there are several. */
  label?: string;
  points: StagePoint[];
  /**
   * Whether this group is the paper's stages setting (GCONV, Adam, CIFAR-10), so the paper's
   * Figure 2 values belong beside it. false: never draw them (another architecture or dataset).
   * Absent: fill them from stages.csv (hand-written figure inputs).
   */
  paperSetting?: boolean;
  /** Default: ReLU 80.32 and CNTK 77.43. */
  references?: ReferenceLine[];
}

/** One nu_t figure (one per group). */
export interface NuInput {
  label?: string;
  points: CurvePoint[];
  /** Epochs where nu was measured but undefined in every run (no point drawn there). */
  undefinedEpochs?: number[];
}

/** One NTK-split figure (one per group). */
export interface NtkSplitInput {
  label?: string;
  series: NtkSplitSeries[];
}

/**
 * Everything `npf plot` can draw; each figure is drawn when its field is present and non-empty.
 * Figures: table2, stages[-<label>], nu[-<label>], ntk-split[-<label>], trial-curves (a label
 * suffix only when a field holds several groups).
 */
export interface FiguresInput {
  /** Shown in figure titles, e.g. the sweep name. */
  title?: string;
  table2?: Table2Cell[];
  stages?: StagesInput[];
  nu?: NuInput[];
  ntkSplit?: NtkSplitInput[];
  trials?: TrialCurve[];
}

/** Default reference lines of Figure 2 (left): the paper's ReLU (Table 2, GCONV Adam) and CNTK accuracies (docs/protocol.md). */
export const STAGE_REFERENCES: readonly ReferenceLine[] = [
  { label: 'ReLU 80.32', value: 80.32 },
  { label: 'CNTK 77.43', value: 77.43 },
];
