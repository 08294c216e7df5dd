import { describe, expect, it } from 'vitest';
import { formatDuration, formatEvent } from '../../events/format-event.js';
import type { NpfEvent } from '../../events/event-schema.js';

const base = { v: 1 as const, sweepId: 'table2', time: '2026-11-27T11:02:03.456Z', seq: 1 };
const task = 'f'.repeat(64);

describe('events - one human line per event', () => {
  it('events - formats every event type', () => {
    const events: NpfEvent[] = [
      { ...base, type: 'sweep.submitted', payload: { name: 'table2-fc', tasks: 50, cells: 10 } },
      { ...base, type: 'task.leased', taskId: task, payload: { workerId: 'w-1', attempt: 1, label: 'fc/sgd/relu seed 0' } },
      { ...base, type: 'task.progress', taskId: task, payload: { attempt: 1, epoch: 3, epochs: 80, testAccuracy: 0.97123, trainLoss: 0.12344, examplesPerSec: 1234.4 } },
      { ...base, type: 'task.retried', taskId: task, payload: { attempt: 1, nextAttempt: 2, reason: 'lease expired', backoffMs: 5000 } },
      { ...base, type: 'task.failed', taskId: task, payload: { attempt: 3, reason: 'child crashed', message: 'exit code 137' } },
      { ...base, type: 'task.succeeded', taskId: task, payload: { attempt: 1, bestTestAccuracy: 0.9785, bestEpoch: 42, durationMs: 725_000 } },
      { ...base, type: 'task.cancelled', taskId: task, payload: {} },
      { ...base, type: 'sweep.complete', payload: { succeeded: 49, failed: 1, cancelled: 0, durationMs: 3_723_000 } },
      { ...base, type: 'sweep.cancelled', payload: { reason: 'by user' } },
    ];
    expect(events.map((e) => formatEvent(e))).toEqual([
      "11:02:03  sweep submitted 'table2-fc': 50 tasks, 10 cells",
      '11:02:03  task ffffffffff  leased to w-1 (attempt 1) fc/sgd/relu seed 0',
      '11:02:03  task ffffffffff  epoch 3/80  test acc 97.12%  train loss 0.1234  1234 ex/s',
      '11:02:03  task ffffffffff  retry: attempt 1 lease expired; attempt 2 in 5.0s',
      '11:02:03  task ffffffffff  FAILED (attempt 3): child crashed: exit code 137',
      '11:02:03  task ffffffffff  succeeded: best test acc 97.85% at epoch 42 in 12m05s (attempt 1)',
      '11:02:03  task ffffffffff  cancelled',
      '11:02:03  sweep complete: 49 succeeded, 1 failed, 0 cancelled in 1h02m03s',
      '11:02:03  sweep cancelled: by user',
    ]);
    expect(formatEvent(events[0]!, { showSweep: true })).toBe("11:02:03  [table2] sweep submitted 'table2-fc': 50 tasks, 10 cells");
  });

  it('events - the same formatter prints coordinator events (timeMs), names a task by its label, and keeps one line', () => {
    const leased = { type: 'task.leased' as const, sweepId: 's', taskId: task, timeMs: Date.UTC(2026, 10, 27, 11, 2, 3), sequence: 7, payload: { workerId: 'w-1', attempt: 2, gpuIndex: 1 } };
    expect(formatEvent(leased)).toBe('11:02:03  task ffffffffff  leased to w-1 (attempt 2) on gpu 1');
    expect(formatEvent(leased, { label: 'relu fc adam 0.001 seed 0', time: false })).toBe('relu fc adam 0.001 seed 0  leased to w-1 (attempt 2) on gpu 1');
    const failed = { ...base, type: 'task.failed' as const, taskId: task, payload: { attempt: 1, reason: 'not retryable', message: 'trial failed: bad spec; last stderr lines:\nat x\nat y' } };
    expect(formatEvent(failed)).toBe('11:02:03  task ffffffffff  FAILED (attempt 1): not retryable: trial failed: bad spec; last stderr lines:');
    const submitted = { ...base, type: 'sweep.submitted' as const, payload: { name: 'quick', tasks: 15, cells: 5, alreadyDone: 3 } };
    expect(formatEvent(submitted)).toBe("11:02:03  sweep submitted 'quick': 15 tasks, 5 cells, 3 already done");
    // A progress event from a publisher that knew no epoch count prints no '/0'.
    const progress = { ...base, type: 'task.progress' as const, taskId: task, payload: { attempt: 1, epoch: 3, epochs: 0 } };
    expect(formatEvent(progress)).toBe('11:02:03  task ffffffffff  epoch 3');
  });

  it('events - durations', () => {
    expect(formatDuration(4200)).toBe('4.2s');
    expect(formatDuration(60_000)).toBe('1m00s');
    expect(formatDuration(-1)).toBe('?');
  });
});
