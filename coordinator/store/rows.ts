/**
 * The rows of the coordinator's tables as better-sqlite3 returns them (snake_case columns).
 * Only coordinator/store/ and the core modules that hold a row across a write see these.
 */
import type { TaskState } from '../task-state.js';

/** Columns of `tasks` read on hot paths: all but the JSON documents (key_json, spec_json). */
export const TASK_COLUMNS =
  'seq, task_id, cell_key, regime, parent_task_id, parent_checkpoint, has_dependants, cpu, gpu, memory_mb, priority, state, attempt, tries, not_before_ms, lease_worker, lease_expires_ms, leased_at_ms, gpu_indices, error, updated_at_ms, fusion_key, fuse_max, bundle_id';

/** One row of `tasks` (TASK_COLUMNS). */
export interface TaskRow {
  seq: number;
  task_id: string;
  cell_key: string;
  regime: string;
  parent_task_id: string | null;
  parent_checkpoint: string | null;
  has_dependants: number;
  cpu: number;
  gpu: number;
  memory_mb: number;
  priority: number;
  state: TaskState;
  attempt: number;
  tries: number;
  not_before_ms: number;
  lease_worker: string | null;
  lease_expires_ms: number | null;
  leased_at_ms: number | null;
  gpu_indices: string;
  error: string | null;
  updated_at_ms: number;
  /** Tasks with the same key may train as one stack (science/fused/fusion-key.ts); NULL: never bundled. */
  fusion_key: string | null;
  /** Most members of a bundle this task joins (the sweep's `fuse`); 0: as many as the worker takes. */
  fuse_max: number;
  /** While leased: the bundle it belongs to (its leader's task id), or NULL when it runs alone. */
  bundle_id: string | null;
}

export interface SweepRow {
  sweep_id: string;
  name: string;
  file_name: string;
  spec_yaml: string;
  overrides_json: string;
  state: string;
  created_at_ms: number;
  cells_total: number;
  /** Tasks of the sweep not yet in a terminal state. */
  open_tasks: number;
  /** Aggregation options resolved at submission (JSON); NULL for sweeps submitted before schema version 3. */
  aggregation_json: string | null;
}

export interface WorkerRow {
  worker_id: string;
  hostname: string;
  cpu: number;
  gpu: number;
  memory_mb: number;
  backends_json: string;
  version: string;
  draining: number;
  registered_at_ms: number;
  last_seen_ms: number;
  /** Most trials it trains as one stacked process (1: no bundles). */
  max_bundle: number;
  /** SHA-256 (hex) of the secret issued at registration; null for a worker registered before secrets. */
  secret_sha256: string | null;
}

export interface ArtifactRow {
  task_id: string;
  name: string;
  attempt: number;
  sha256: string;
  size: number;
  epoch: number;
  created_at_ms: number;
}

export interface EventRow {
  seq: number;
  time_ms: number;
  sweep_id: string;
  task_id: string;
  type: string;
  payload_json: string;
}

export interface ResultRow {
  task_id: string;
  attempt: number;
  status: string;
  result_json: string;
  completed_at_ms: number;
}

