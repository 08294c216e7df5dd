/**
 * Messages between a worker and its trial child process (Node IPC, `process.send`).
 * Plain JSON: the child runs `runTrial` and reports progress, then exactly one result or error;
 * a bundle's child runs its members as one stack and reports per member.
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

/** One member of a bundle: a leased task trained with the others as one stack (docs/fusion.md). */
export interface BundleMemberStart {
  taskId: string;
  spec: TrialSpec;
  gates?: CheckpointRef;
  checkpointDir: string;
}

/** Parent -> child: train these tasks as one stacked process (science/fused/run-fused-trials.ts). */
export interface StartBundleMessage {
  type: 'start-bundle';
  members: BundleMemberStart[];
}

/** Parent -> child of a bundle: stop one member between steps (its result says 'cancelled'). */
export interface CancelMemberMessage {
  type: 'cancel-member';
  taskId: string;
}

/**
 * Child -> parent. A bundle's child tags every message with the member's `taskId` and sends one
 * result or error per member, each as soon as that member is done.
 */
export type ChildMessage =
  | { type: 'progress'; event: TrialProgress; tfjsBytes?: number; taskId?: string }
  | { type: 'result'; result: TrialResult; taskId?: string }
  /** runTrial threw. `retryable` is false for deterministic errors (bad spec, bad checkpoint). */
  | { type: 'error'; code: string; message: string; retryable: boolean; taskId?: string };

export function isChildMessage(m: unknown): m is ChildMessage {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return t === 'progress' || t === 'result' || t === 'error';
}
