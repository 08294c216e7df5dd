/**
 * Ray-style placement of ready tasks on one worker: a pure function over plain data.
 *
 * - cpu and memoryMb are pooled per worker.
 * - gpu is per DEVICE: a fractional request (0 < gpu < 1) packs onto one device whose used
 *   fraction plus the request stays <= 1 (best fit: the fullest device that still fits), so
 *   4 x 0.25 share one GPU and 0.15 fits floor(1/0.15) = 6 times per device, never 6.67.
 *   A whole request (gpu = 1, 2, ...) takes that many entirely free devices.
 * - Order: higher `priority` first, then tasks with dependants (ReLU parents unblock
 *   flnpf/stage trials), then FIFO (`seq`). A task that does not fit is skipped, not blocking
 *   the smaller ones behind it.
 */
import type { ResourceRequest } from './sweep-types.js';

/** Tolerance for float sums of fractional GPU shares (0.1 + 0.2 + ...). */
const EPS = 1e-9;

/** What a worker offers. `gpu` is a device count. */
export interface WorkerCapacity {
  cpu: number;
  gpu: number;
  memoryMb: number;
}

/** A lease the worker already holds. */
export interface HeldAllocation {
  resources: ResourceRequest;
  /** Devices it occupies (empty when gpu = 0). */
  gpuIndices: readonly number[];
}

/** A task ready to lease. */
export interface Candidate {
  taskId: string;
  resources: ResourceRequest;
  priority: number;
  hasDependants: boolean;
  /** Submission order (FIFO tie-break). */
  seq: number;
}

export interface Placement {
  taskId: string;
  /** Devices given to it; empty for CPU-only tasks. The lease's gpu_index is the first, or -1. */
  gpuIndices: number[];
}

/** A request shape the scheduler can place: gpu is 0, a fraction in (0, 1], or a whole number. */
export function isPlaceableGpuRequest(gpu: number): boolean {
  return Number.isFinite(gpu) && gpu >= 0 && (gpu <= 1 || Number.isInteger(gpu));
}

/** Order of candidates: priority desc, parents first, FIFO. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.hasDependants !== b.hasDependants) return a.hasDependants ? -1 : 1;
  return a.seq - b.seq;
}

/** Per-device used GPU fraction from the held allocations. */
export function deviceUsage(capacity: WorkerCapacity, held: readonly HeldAllocation[]): number[] {
  const devices = Math.max(0, Math.floor(capacity.gpu));
  const used = new Array<number>(devices).fill(0);
  for (const h of held) {
    const share = h.resources.gpu >= 1 ? 1 : h.resources.gpu;
    for (const i of h.gpuIndices) if (i >= 0 && i < devices) used[i] += share;
  }
  return used;
}

/**
 * Choose which candidates to lease to a worker, at most `maxTasks`, given what it already holds.
 * Pure: the same inputs always give the same placements.
 */
export function placeTasks(
  capacity: WorkerCapacity,
  held: readonly HeldAllocation[],
  candidates: readonly Candidate[],
  maxTasks: number,
): Placement[] {
  let freeCpu = capacity.cpu;
  let freeMem = capacity.memoryMb;
  for (const h of held) {
    freeCpu -= h.resources.cpu;
    freeMem -= h.resources.memoryMb;
  }
  const used = deviceUsage(capacity, held);
  const out: Placement[] = [];
  const ordered = [...candidates].sort(compareCandidates);
  for (const c of ordered) {
    if (out.length >= maxTasks) break;
    const r = c.resources;
    if (r.cpu > freeCpu + EPS || r.memoryMb > freeMem + EPS) continue;
    if (!isPlaceableGpuRequest(r.gpu)) continue;
    let gpuIndices: number[] = [];
    if (r.gpu > 0 && r.gpu < 1) {
      // Best fit: the fullest device that still has room, lowest index on ties.
      let best = -1;
      for (let i = 0; i < used.length; i++) {
        if (used[i] + r.gpu <= 1 + EPS && (best < 0 || used[i] > used[best] + EPS)) best = i;
      }
      if (best < 0) continue;
      used[best] += r.gpu;
      gpuIndices = [best];
    } else if (r.gpu >= 1) {
      const free: number[] = [];
      for (let i = 0; i < used.length && free.length < r.gpu; i++) if (used[i] <= EPS) free.push(i);
      if (free.length < r.gpu) continue;
      for (const i of free) used[i] = 1;
      gpuIndices = free;
    }
    freeCpu -= r.cpu;
    freeMem -= r.memoryMb;
    out.push({ taskId: c.taskId, gpuIndices });
  }
  return out;
}
