import { describe, expect, it } from 'vitest';
import { placeTasks, type Candidate } from '../../coordinator/scheduler.js';
import { backoffMs, decideAfterFailure, isLeaseExpired } from '../../coordinator/lease-policy.js';

function cands(n: number, res: Candidate['resources'], extra: Partial<Candidate> = {}): Candidate[] {
  return Array.from({ length: n }, (_, i) => ({
    taskId: `t${i}`,
    resources: res,
    priority: 0,
    hasDependants: false,
    seq: i,
    ...extra,
  }));
}

describe('coordinator scheduler', () => {
  it('scheduler - 4 x 0.25 GPU pack onto one device, the 5th goes to the next', () => {
    const p = placeTasks({ cpu: 16, gpu: 2, memoryMb: 1e6 }, [], cands(5, { cpu: 1, gpu: 0.25, memoryMb: 2000 }), 100);
    expect(p.map((x) => x.gpuIndices)).toEqual([[0], [0], [0], [0], [1]]);
  });

  it('scheduler - 0.15 GPU on 8 devices admits 8 x floor(1/0.15) = 48, not 53', () => {
    const p = placeTasks({ cpu: 1000, gpu: 8, memoryMb: 1e9 }, [], cands(100, { cpu: 1, gpu: 0.15, memoryMb: 1 }), 1000);
    expect(p.length).toBe(48);
    const perDevice = new Array(8).fill(0);
    for (const x of p) perDevice[x.gpuIndices[0]]++;
    expect(perDevice).toEqual([6, 6, 6, 6, 6, 6, 6, 6]);
  });

  it('scheduler - whole-GPU requests take free devices only, never a shared one', () => {
    const held = [{ resources: { cpu: 1, gpu: 0.5, memoryMb: 1 }, gpuIndices: [0] }];
    const p = placeTasks({ cpu: 10, gpu: 3, memoryMb: 1e6 }, held, cands(3, { cpu: 1, gpu: 1, memoryMb: 1 }), 10);
    expect(p.map((x) => x.gpuIndices)).toEqual([[1], [2]]);
    const two = placeTasks({ cpu: 10, gpu: 3, memoryMb: 1e6 }, held, cands(1, { cpu: 1, gpu: 2, memoryMb: 1 }), 10);
    expect(two[0].gpuIndices).toEqual([1, 2]);
  });

  it('scheduler - respects held fractional shares per device', () => {
    const held = [{ resources: { cpu: 0, gpu: 0.75, memoryMb: 0 }, gpuIndices: [0] }];
    const p = placeTasks({ cpu: 10, gpu: 1, memoryMb: 1e6 }, held, cands(3, { cpu: 0, gpu: 0.25, memoryMb: 0 }), 10);
    expect(p.length).toBe(1);
  });

  it('scheduler - cpu and memory limit the count; GPU tasks never land on a CPU-only worker', () => {
    expect(placeTasks({ cpu: 2, gpu: 0, memoryMb: 1e6 }, [], cands(5, { cpu: 1, gpu: 0, memoryMb: 1 }), 10).length).toBe(2);
    expect(placeTasks({ cpu: 8, gpu: 0, memoryMb: 5000 }, [], cands(5, { cpu: 1, gpu: 0, memoryMb: 2000 }), 10).length).toBe(2);
    expect(placeTasks({ cpu: 8, gpu: 0, memoryMb: 5000 }, [], cands(5, { cpu: 1, gpu: 0.25, memoryMb: 1 }), 10).length).toBe(0);
    const p = placeTasks({ cpu: 8, gpu: 0, memoryMb: 1e6 }, [], cands(5, { cpu: 1, gpu: 0, memoryMb: 1 }), 3);
    expect(p.map((x) => x.gpuIndices)).toEqual([[], [], []]);
  });

  it('scheduler - priority first, then parents with dependants, then FIFO; a big task does not block smaller ones', () => {
    const c: Candidate[] = [
      { taskId: 'leaf-old', resources: { cpu: 1, gpu: 0, memoryMb: 1 }, priority: 0, hasDependants: false, seq: 1 },
      { taskId: 'parent', resources: { cpu: 1, gpu: 0, memoryMb: 1 }, priority: 0, hasDependants: true, seq: 5 },
      { taskId: 'urgent', resources: { cpu: 1, gpu: 0, memoryMb: 1 }, priority: 10, hasDependants: false, seq: 9 },
      { taskId: 'huge', resources: { cpu: 100, gpu: 0, memoryMb: 1 }, priority: 20, hasDependants: true, seq: 0 },
      { taskId: 'leaf-new', resources: { cpu: 1, gpu: 0, memoryMb: 1 }, priority: 0, hasDependants: false, seq: 7 },
    ];
    expect(placeTasks({ cpu: 3, gpu: 0, memoryMb: 100 }, [], c, 10).map((p) => p.taskId)).toEqual([
      'urgent',
      'parent',
      'leaf-old',
    ]);
  });
});

describe('coordinator lease-policy', () => {
  const policy = { maxAttempts: 4, retryBackoffMs: 100, maxBackoffMs: 350 };
  it('lease-policy - backoff doubles per attempt and is capped', () => {
    expect([1, 2, 3, 4, 60].map((a) => backoffMs(a, policy))).toEqual([100, 200, 350, 350, 350]);
  });
  it('lease-policy - retry until maxAttempts, never for deterministic failures', () => {
    expect(decideAfterFailure({ attempt: 1, retryable: true, error: 'x', now: 1000 }, policy)).toEqual({
      kind: 'retry',
      notBeforeMs: 1100,
      backoffMs: 100,
    });
    expect(decideAfterFailure({ attempt: 4, retryable: true, error: 'boom', now: 0 }, policy)).toEqual({
      kind: 'fail',
      reason: 'gave up after 4 attempts: boom',
    });
    expect(decideAfterFailure({ attempt: 1, retryable: false, error: 'bad spec', now: 0 }, policy)).toEqual({
      kind: 'fail',
      reason: 'bad spec',
    });
  });
  it('lease-policy - a lease expires at its expiry time', () => {
    expect(isLeaseExpired(1000, 999)).toBe(false);
    expect(isLeaseExpired(1000, 1000)).toBe(true);
  });
});
