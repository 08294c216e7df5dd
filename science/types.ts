/**
 * The science core's public contract: one training trial of the paper's networks.
 *
 * Everything here is plain data (JSON-serialisable), so a trial spec can travel over gRPC,
 * be hashed into a trial's identity, and be stored in SQLite. The coordinator and workers
 * only ever see these types; TensorFlow.js stays inside `science/`.
 */

import type { BackendName } from './backend/backend-choice.js';
import type { DatasetName } from './datasets/registry.js';
import type { ArchKind } from './models/architecture.js';
import type { OptimizerName } from './optimizers.js';
import type { Regime } from './regimes.js';

// Each name list is defined once, in its registry; the types here are derived from them.
export type { ArchKind, BackendName, DatasetName, OptimizerName, Regime };

/** Take the first `first` examples, or the first `perClass` examples of each class. */
export interface SubsetSpec {
  first?: number;
  perClass?: number;
}

export interface DatasetSpec {
  name: DatasetName;
  /** Directory holding the files (required where the registry says needsDir: the CIFAR sets; optional override otherwise). */
  dir?: string;
  trainSubset?: SubsetSpec;
  testSubset?: SubsetSpec;
}

/** Architectures of docs/protocol.md. `depth` counts hidden layers (the paper's d = depth + 1). */
export type ArchSpec =
  | { kind: 'fc'; width: number; depth: number; bias?: boolean }
  | { kind: 'vconv' }
  | { kind: 'gconv' };

export interface OptimizerSpec {
  name: OptimizerName;
  /** Step size. */
  lr: number;
}

export type LossName = 'cross-entropy' | 'squared';

/** The device a GPU backend ran on (WebGPU: the adapter's GPUAdapterInfo). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  /** The device name, e.g. 'NVIDIA H200' or 'llvmpipe (LLVM 15.0.6, 256 bits)'. */
  device: string;
  description: string;
  /** A CPU implementation of the GPU API (e.g. Mesa's lavapipe): correct, not fast. */
  software: boolean;
}

export interface GateSpec {
  /** Soft gate sharpness, default 4. */
  beta: number;
  /** Soft gate lift, default 0.1: gate = (1 + eps) * sigmoid(beta * q). */
  eps: number;
}

/** A checkpoint file pinned by the SHA-256 of its bytes. */
export interface CheckpointRef {
  path: string;
  sha256: string;
}

/** Which checkpoints a (ReLU) trial writes for dependants. */
export interface CheckpointRequest {
  /** The weights at the epoch of best test accuracy over the whole run (FLNPF's source). */
  best?: boolean;
  /** Best-so-far weights as of these epochs (stage k uses epoch 10k). Named `best@<epoch>`. */
  bestAtEpochs?: number[];
  /** The weights after the last epoch. */
  final?: boolean;
}

/** Kernel measurements taken during training (Figure 2 middle and the NTK split). */
export interface MeasureSpec {
  /** nu_t = y^T H_hat^-1 y on a fixed subset, every `every` epochs (and at epoch 0). */
  npk?: { every: number; examplesPerClass: number };
  /**
   * Trace and Frobenius norm of K_v and K_phi (DNPFL only), every `every` epochs (and at 0).
   * Gradients w.r.t. the weight matrices only unless includeBias (default false).
   */
  ntkSplit?: { every: number; examplesPerClass: number; includeBias?: boolean };
}

export type InitName =
  /** Keras default: Glorot uniform kernels, zero biases. */
  | 'glorot-uniform'
  /** The nu_t notebook: weights +-sqrt(2/width) with equal probability. */
  | 'sign-sqrt2';

/**
 * One fully resolved training trial. Defaults are applied before a spec reaches runTrial. The
 * spec is the trial's identity (hashed into its task id); the parent checkpoint that gives FLNPF
 * and stage k >= 1 their gates is an input of the run, passed beside it (RunTrialOptions.gates).
 */
export interface TrialSpec {
  dataset: DatasetSpec;
  arch: ArchSpec;
  regime: Regime;
  /** For regime 'stage': k in 0..6. */
  stage?: number;
  /**
   * For regime 'stage': ReLU epochs per stage, so stage k takes the parent's 'best@<k*stageEvery>'
   * checkpoint (default 10, as the authors did).
   */
  stageEvery?: number;
  gate: GateSpec;
  optimizer: OptimizerSpec;
  loss: LossName;
  init: InitName;
  epochs: number;
  batchSize: number;
  seed: number;
  backend: BackendName;
  /** Checkpoints this trial must write (ReLU parents). */
  checkpoints?: CheckpointRequest;
  measure?: MeasureSpec;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  testAccuracy: number;
  examplesPerSec: number;
  durationMs: number;
}

/**
 * One nu_t measurement (science/npk/nu.ts, docs/nu.md). `method` says how nu was obtained:
 * 'full-rank' (exact inverse), 'pseudo-inverse' (H_hat singular, y in its range) or 'undefined'
 * (y has a component in H_hat's null space: nu is null and `reason` says why). Results stored by
 * earlier versions may hold 'cholesky' (full rank) or 'ridge' (a regularised value, which the
 * aggregation treats as undefined).
 */
export interface NpkPoint {
  epoch: number;
  /** nu = y^T H_hat^-1 y, or null when undefined. */
  nu: number | null;
  method: 'full-rank' | 'pseudo-inverse' | 'undefined' | 'cholesky' | 'ridge';
  reason?: string;
  /** Condition number of H_hat (2-norm, from its eigenvalues; capped at 1 / eps_float64). */
  conditionNumber: number;
  /** Numerical rank of H_hat and the size n of the kernel subset. */
  rank?: number;
  n?: number;
  /** Relative eigenvalue cut-off (eigenvalues <= cutoff * lambda_max count as zero). */
  cutoff?: number;
  /** Share of ||y||^2 in H_hat's numerical null space. */
  nullSpaceFraction?: number;
  /** Legacy 'ridge' points: the ridge that was added. */
  ridge?: number;
}

export interface NtkSplitPoint {
  epoch: number;
  /** Which scalar output was differentiated: 'true-class-logit', or 'output' for a 1-output network. */
  output: string;
  /**
   * Which parameters the gradients are taken with respect to: 'weights' (the weight matrices, the
   * default) or 'weights+biases'. Absent in results stored by earlier versions, which used both.
   */
  parameters?: 'weights' | 'weights+biases';
  valueTrace: number;
  valueFrobenius: number;
  featureTrace: number;
  featureFrobenius: number;
}

export interface CheckpointInfo {
  /** 'best', 'final' or 'best@<epoch>'. */
  name: string;
  path: string;
  sha256: string;
  /** The epoch whose weights the file holds. */
  epoch: number;
  testAccuracy: number;
}

export type TrialStatus = 'succeeded' | 'diverged' | 'cancelled';

export interface TrialResult {
  status: TrialStatus;
  /** The backend actually used (e.g. 'wasm', 'cpu', 'tensorflow'). */
  backend: string;
  /** Why that backend, when it is not the obvious one (e.g. conv on cpu: wasm lacks conv gradients). */
  backendNote?: string;
  /** The GPU adapter it ran on (backend 'webgpu'). */
  adapter?: AdapterInfo;
  /** The paper's metric: max over epochs of test accuracy, in [0, 1]. */
  bestTestAccuracy: number;
  bestEpoch: number;
  finalTestAccuracy: number;
  epochs: EpochRecord[];
  /** Epoch at which the loss became NaN/Inf, when status is 'diverged'. */
  divergedAtEpoch?: number;
  checkpoints: CheckpointInfo[];
  npk?: NpkPoint[];
  ntkSplit?: NtkSplitPoint[];
  /** Training time of this trial, ms (an earlier, interrupted attempt's time included when resumed). */
  wallMs: number;
  /**
   * The epoch this run continued from: an earlier, interrupted attempt's resume state
   * (RunTrialOptions.resume) held the trial as of the end of this epoch. Absent: trained from the start.
   */
  resumedFromEpoch?: number;
}

/** Progress events a trial emits while it runs. */
export type TrialProgress =
  | { kind: 'started'; backend: string; backendNote?: string; adapter?: AdapterInfo; trainExamples: number; testExamples: number; stepsPerEpoch: number }
  | { kind: 'step'; epoch: number; step: number; stepsPerEpoch: number; loss?: number }
  | { kind: 'epoch'; record: EpochRecord }
  | { kind: 'checkpoint'; checkpoint: CheckpointInfo }
  | { kind: 'npk'; point: NpkPoint }
  | { kind: 'ntk-split'; point: NtkSplitPoint }
  /** A resume state was written (RunTrialOptions.resumeEveryMs): the trial as of the end of `checkpoint.epoch`. */
  | { kind: 'resume-point'; checkpoint: CheckpointInfo }
  /** The trial continues from a resume state, after `fromEpoch`. */
  | { kind: 'resumed'; fromEpoch: number };

export interface RunTrialOptions {
  /**
   * The gates of FLNPF and stage k >= 1: a checkpoint of the ReLU parent trial (same arch),
   * verified against its SHA-256 when read. Required for those regimes, refused for the others.
   */
  gates?: CheckpointRef;
  onProgress?: (event: TrialProgress) => void;
  /** Cancels between steps; the result then has status 'cancelled'. */
  signal?: AbortSignal;
  /** Where checkpoints are written (default: a fresh temp dir). */
  checkpointDir?: string;
  /**
   * Continue from this resume state, written by an earlier, interrupted attempt of the same
   * trial (verified against its SHA-256; refused when it belongs to another trial): weights,
   * optimiser state, data-order position, best-so-far, epoch records and the named checkpoints
   * written so far are restored, and training goes on after its epoch (docs/resume.md).
   */
  resume?: CheckpointRef;
  /**
   * Write a resume state (`resume.npfckpt` in checkpointDir, announced as a 'resume-point'
   * progress event) at the end of an epoch once this long has passed since the trial started or
   * since the last one; 0: after every epoch. Absent: none is written.
   */
  resumeEveryMs?: number;
  /** The GPU device index this trial was placed on (a worker's lease); GPU backends open that device. */
  gpuIndex?: number;
}
