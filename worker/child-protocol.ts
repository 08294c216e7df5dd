/**
 * Messages between a worker and its trial child process (Node IPC, `process.send`).
 * Plain JSON: the child runs `runTrial` and reports progress, then exactly one result or error.
 */
import type { CheckpointRef, TrialProgress, TrialResult, TrialSpec } from '../science/types.js';

/** Parent -> child: the one command a child receives. */
export interface StartTrialMessage {
  type: 'start';
  /** The resolved trial, validated by the worker when the lease arrived. */
  spec: TrialSpec;
  /** flnpf / stage k >= 1: the ReLU parent's checkpoint, a local file the worker verified (RunTrialOptions.gates). */
  gates?: CheckpointRef;
  /** Where runTrial writes checkpoints. */
  checkpointDir: string;
  /** An earlier attempt's resume state, a local file the worker verified (RunTrialOptions.resume). */
  resume?: CheckpointRef;
  /** RunTrialOptions.resumeEveryMs. */
  resumeEveryMs?: number;
}

/** Child -> parent. */
export type ChildMessage =
  | { type: 'progress'; event: TrialProgress; tfjsBytes?: number }
  | { type: 'result'; result: TrialResult }
  /** runTrial threw. `retryable` is false for deterministic errors (bad spec, bad checkpoint). */
  | { type: 'error'; code: string; message: string; retryable: boolean };

export function isChildMessage(m: unknown): m is ChildMessage {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return t === 'progress' || t === 'result' || t === 'error';
}
