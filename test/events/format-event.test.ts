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

  it('events - durations', () => {
    expect(formatDuration(4200)).toBe('4.2s');
    expect(formatDuration(60_000)).toBe('1m00s');
    expect(formatDuration(-1)).toBe('?');
  });
});
