/**
 * Contract between the sweep-spec expansion / result aggregation (pure core) and the coordinator
 * runtime (SQLite, gRPC, scheduling). Plain data only.
 */
import type { TrialResult, TrialSpec } from '../science/types.js';

/** What a trial asks of a worker (Ray-style). gpu may be fractional (e.g. 0.25): several pack on one GPU. */
export interface ResourceRequest {
  cpu: number;
  gpu: number;
  memoryMb: number;
}

/** The axes that identify a trial's place in the results table. */
export interface TrialKey {
  dataset: string;
  arch: string; // e.g. 'fc', 'vconv', 'gconv'
  optimizer: string; // 'sgd' | 'adam' | 'rmsprop'
  lr: number;
  regime: string; // 'relu' | 'frnpf-ii' | ... | 'stage'
  stage?: number;
  seed: number;
}

/** One trial of an expanded sweep. */
export interface ExpandedTask {
  /** sha256 (hex) of the canonical JSON of { spec, parent }: the trial's identity across sweeps and resumes. */
  taskId: string;
  key: TrialKey;
  /** Fully resolved. A child's gates are not part of it: the lease carries the parent's checkpoint beside it. */
  spec: TrialSpec;
  /** For flnpf / stage-k: the ReLU trial whose named checkpoint ('best', 'best@<epoch>') gives the gates. */
  parent?: { taskId: string; checkpoint: string };
  resources: ResourceRequest;
  /** Higher runs first: ReLU parents (which unblock dependants) outrank leaves. */
  priority: number;
  /**
   * Which ready tasks it may train with as one stack (science/fused/fusion-key.ts) and at most how
   * many per stack (0: as many as the worker takes). Absent: it always runs alone. Not part of
   * the task's identity.
   */
  fusion?: { key: string; max: number };
}

/** A finished (or not) trial as the aggregator sees it. */
export interface TrialOutcome {
  taskId: string;
  key: TrialKey;
  status: 'succeeded' | 'diverged' | 'failed' | 'cancelled' | 'pending';
  result?: TrialResult;
  /** The trial's resolved spec, when known (the per-trial table's config columns). */
  spec?: TrialSpec;
}
