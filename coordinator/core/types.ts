/**
 * The coordinator core's own types: what its operations take and answer. Plain data, no gRPC:
 * the rpc edge (grpc-mapping.ts) converts these to and from the generated messages.
 */
import { RESUME_CHECKPOINT_NAME } from '../../science/checkpoint/resume-state.js';
import type { AggregateOptions } from '../results/aggregate-table.js';
import type { ResourceRequest } from '../sweep-types.js';
import type { RetryPolicy } from '../lease-policy.js';
import type { ExpandedTask } from '../sweep-types.js';
import type { TaskState } from '../task-state.js';

/** Fully resolved options of the core (defaults applied in coordinator-options.ts). */
export interface CoreOptions extends RetryPolicy {
  leaseTtlMs: number;
  heartbeatIntervalMs: number;
  /** Quota on the bytes of artifacts recorded for the tasks of one sweep (default LIMITS.artifactBytesPerSweep). */
  artifactBytesPerSweep?: number;
  now: () => number;
  log: (line: string) => void;
}

/** What the metrics layer is told as things happen (counters, histograms). */
export interface CoreObserver {
  /** `n` leases granted, `bundles` of them as bundles (each several of the n). */
  leaseGranted?(n: number, bundles: number): void;
  leaseExpired?(n: number): void;
  taskRetried?(): void;
  taskFinished?(regime: string, seconds: number): void;
  epochObserved?(seconds: number): void;
  trialResult?(sweepId: string, regime: string, bestTestAccuracy: number): void;
}

/**
 * The artifact name of a task's resume state (science/checkpoint/resume-state.ts), uploaded by a
 * running attempt; the next attempt of the task is leased with it and continues from its epoch.
 * Removed when the task succeeds.
 */
export const RESUME_ARTIFACT = RESUME_CHECKPOINT_NAME;

/** A stored file of a task attempt (a checkpoint), named e.g. 'best' or 'best@10'. */
export interface ArtifactRef {
  name: string;
  /** sha256 of the bytes, 64 lowercase hex digits. */
  sha256: string;
  size: number;
  /** Epoch whose weights it holds. */
  epoch: number;
}

/** A task handed to a worker. */
export interface Lease {
  taskId: string;
  /** The first sweep the task belongs to. */
  sweepId: string;
  /** The attempt number; every report about this lease must carry it. */
  fencingToken: number;
  /** The TrialSpec as JSON, as stored at submission. */
  specJson: string;
  /** The parent's checkpoint that gives the trial its gates (flnpf, stage), when it has a parent. */
  parentCheckpoint?: ArtifactRef;
  /** The resume state an earlier, interrupted attempt uploaded (artifact RESUME_ARTIFACT), if any. */
  resumeFrom?: ArtifactRef;
  resources: ResourceRequest;
  /** GPU device to use, or -1 for none. */
  gpuIndex: number;
  /** The bundle it trains in (its leader's task id: one stacked process), or undefined when alone. */
  bundleId?: string;
}

/** Tasks by state. */
export type TaskCounts = Record<TaskState, number>;

/** A sweep as the coordinator knows it. */
export interface SweepSummary {
  sweepId: string;
  name: string;
  /** 'running', 'complete', 'failed' or 'cancelled' ('cancelling' inside a cancel's write). */
  state: string;
  createdAtMs: number;
  counts: TaskCounts;
  /** Table cells with every seed finished. */
  cellsComplete: number;
  cellsTotal: number;
  /** Bundles (stacked processes of fused trials) among its leased and running tasks, and their members. */
  bundles: number;
  bundledTasks: number;
}

/**
 * How a sweep's results are aggregated (the results module's options a spec implies: expected
 * seeds, step-size selection, std convention), resolved once when the sweep is submitted.
 */
export type SweepAggregation = Pick<AggregateOptions, 'expectedSeeds' | 'select' | 'std'>;

export interface SubmitInput {
  name: string;
  fileName: string;
  specYaml: string;
  overrides: readonly string[];
  tasks: readonly ExpandedTask[];
  /** Stored with the sweep (default: none, the results module's defaults). */
  aggregation?: SweepAggregation;
}

export interface SubmitOutcome {
  sweepId: string;
  totalTasks: number;
  alreadyDone: number;
}

export interface RegisterInput {
  hostname: string;
  resources: { cpu: number; gpu: number; memoryMb: number };
  backends: readonly string[];
  version: string;
  /** Names of the hardware GPUs the worker found, in GPU-index order (logged). */
  gpuNames?: readonly string[];
  /** Most trials it trains as one stacked process (0 or 1: none). */
  maxBundle?: number;
}

export interface Registration {
  workerId: string;
  /**
   * The worker's secret (128 random bits, hex): given to the worker once, here; every later call
   * naming the worker id must carry it (`Workers.authenticate`). Only its SHA-256 is stored.
   */
  workerSecret: string;
  leaseTtlMs: number;
  heartbeatIntervalMs: number;
}

/** One task of a heartbeat. */
export interface ProgressInput {
  taskId: string;
  fencingToken: number;
  epoch: number;
  /** Epoch records (science/types.ts EpochRecord[]) as JSON; empty for none. */
  epochsJson: string;
}

/** A worker seen within one lease TTL, with the resources it offers. */
export interface LiveWorker {
  workerId: string;
  hostname: string;
  cpu: number;
  gpu: number;
  memoryMb: number;
}

/** The header of an artifact upload. */
export interface UploadHeader {
  taskId: string;
  fencingToken: number;
  /** The uploading worker, which must hold the lease (the rpc edge always names it, authenticated). */
  workerId?: string;
  ref: ArtifactRef;
}

/** One result of CompleteTasks (the fields of a CompleteTaskRequest that matter per item). */
export interface CompletionReport {
  workerId: string;
  taskId: string;
  fencingToken: number;
  /** TrialResult as JSON (science/types.ts). */
  resultJson: string;
  artifacts: readonly ArtifactRef[];
}

/** What became of one CompleteTasks item: recorded, or refused with the typed error CompleteTask would have thrown. */
export type CompletionOutcome = { taskId: string; ok: true } | { taskId: string; ok: false; error: unknown };

/** Current state of one task. */
export interface TaskStateView {
  state: TaskState;
  attempt: number;
  tries: number;
  error: string | null;
  notBeforeMs: number;
}

/** A finished attempt of a task. */
export interface AttemptView {
  attempt: number;
  workerId: string;
  outcome: string;
  error: string | null;
}

/** The spec text a sweep was submitted with. */
export interface SweepSource {
  specYaml: string;
  fileName: string;
  overrides: string[];
}
