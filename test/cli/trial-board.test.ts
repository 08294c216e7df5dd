import { describe, expect, it } from 'vitest';
import { sweepView } from '../../cli/commands/status.js';
import { applyEvent, epochText, fitWidth, idleWarning, newBoard, renderTrialTable, sweepEtaMs, trialEtaMs, type TrialRow } from '../../cli/trial-board.js';
import type { PrintableEvent } from '../../events/format-event.js';
import type { SweepInfo } from '../../gen/npf/v1/sweep.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const trials = [
  { taskId: A, label: 'relu fc adam 0.0003 seed 0', epochs: 4 },
  { taskId: B, label: 'dnpfl fc adam 0.0003 seed 2', epochs: 4 },
  { taskId: C, label: 'flnpf fc adam 0.0003 seed 0', epochs: 4 },
];

const ev = (taskId: string, type: string, timeMs: number, payload: Record<string, unknown>): PrintableEvent => ({ sweepId: 'sw-1', taskId, type, timeMs, payload }) as unknown as PrintableEvent;

/** A finished in 40 s; B leased at 50 s, two epochs done by 70 s; C waiting. */
function board(): Map<string, TrialRow> {
  const b = newBoard(trials);
  for (const e of [
    ev(A, 'task.leased', 0, { workerId: 'w1', attempt: 1 }),
    ev(A, 'task.progress', 10_000, { attempt: 1, epoch: 1, epochs: 4, testAccuracy: 0.9 }),
    ev(A, 'task.succeeded', 40_000, { attempt: 1, bestTestAccuracy: 0.95, durationMs: 40_000 }),
    ev(B, 'task.leased', 50_000, { workerId: 'w2', attempt: 2 }),
    ev(B, 'task.progress', 60_000, { attempt: 2, epoch: 1, epochs: 4, testAccuracy: 0.8 }),
    ev(B, 'task.progress', 70_000, { attempt: 2, epoch: 2, epochs: 4, testAccuracy: 0.7 }),
  ]) {
    applyEvent(b, e);
  }
  return b;
}

describe('trial board - status of each trial folded from the events', () => {
  it('trial board - state, attempt, worker, epochs and the best accuracy so far', () => {
    const b = board();
    expect(b.get(A)).toMatchObject({ state: 'succeeded', attempt: 1, workerId: 'w1', epochsDone: 4, bestAccuracy: 0.95, durationMs: 40_000 });
    expect(b.get(B)).toMatchObject({ state: 'running', attempt: 2, workerId: 'w2', epochsDone: 2, bestAccuracy: 0.8 });
    expect(b.get(C)).toMatchObject({ state: 'pending', attempt: 0, epochsDone: 0 });
  });

  it('trial board - the epoch in progress from the lease on (epoch 1/4, never epoch 0); finished trials show epochs run', () => {
    const b = newBoard(trials);
    applyEvent(b, ev(C, 'task.leased', 0, { workerId: 'w1', attempt: 1 }));
    expect(epochText(b.get(C)!)).toBe('epoch 1/4');
    expect(epochText(board().get(B)!)).toBe('epoch 3/4');
    expect(epochText(board().get(A)!)).toBe('4/4 epochs');
    expect(epochText(board().get(C)!)).toBe('');
  });

  it('trial board - ETAs: a trial from its epoch times, the sweep from the finished trials over those running at once', () => {
    const b = board();
    // B: 20 s for 2 epochs since its lease, 2 left.
    expect(trialEtaMs(b.get(B)!)).toBe(20_000);
    expect(trialEtaMs(b.get(A)!)).toBeUndefined();
    // B's 20 s left + C waiting (mean 40 s), one trial running at once.
    expect(sweepEtaMs([...b.values()])).toBe(60_000);
    expect(sweepEtaMs([...newBoard(trials).values()])).toBeUndefined();
  });

  it('trial board - a resumed attempt counts only the epochs it ran for its epoch time', () => {
    const b = newBoard(trials);
    applyEvent(b, ev(A, 'task.leased', 0, { workerId: 'w1', attempt: 2 }));
    applyEvent(b, ev(A, 'task.progress', 5_000, { attempt: 2, epoch: 3, epochs: 4 }));
    expect(trialEtaMs(b.get(A)!)).toBe(5_000);
  });

  it('trial board - the table: one line per trial, running first, labels not hashes, cut to the width', () => {
    const lines = renderTrialTable([...board().values()], { runningFirst: true });
    expect(lines[0]).toMatch(/^trial +state +try +worker +epoch +best acc +eta$/);
    expect(lines[1]).toMatch(/^dnpfl fc adam 0\.0003 seed 2 +running +2 +w2 +epoch 3\/4 +80\.00% +20\.0s$/);
    expect(lines[2]).toMatch(/^flnpf fc adam 0\.0003 seed 0 +pending$/);
    expect(lines[3]).toMatch(/^relu fc adam 0\.0003 seed 0 +succeeded +1 +w1 +4\/4 epochs +95\.00% +took 40\.0s$/);
    expect(lines.join('\n')).not.toContain('aaaaaa');
    const narrow = renderTrialTable([...board().values()], { width: 30 });
    expect(narrow.every((l) => l.length <= 30)).toBe(true);
    expect(narrow[1]).toBe('relu fc adam 0.0003 seed 0   ~');
    expect(fitWidth('abc', 2)).toBe('abc');
    expect(renderTrialTable([...board().values()], { maxRows: 2 })).toEqual([expect.any(String), expect.stringMatching(/^relu/), '... and 2 more trial(s)']);
  });

  it('trial board - a warning when trials wait and nothing takes them', () => {
    const rows = [...board().values()];
    expect(idleWarning(rows, 'running', 'unknown')).toBeUndefined(); // B runs
    const waiting = rows.filter((r) => r.state !== 'running');
    expect(idleWarning(waiting, 'running', 'unknown')).toBe('no worker is connected: no trial is running though 1 wait (start one: npf worker --coordinator HOST:PORT)');
    expect(idleWarning(rows, 'running', 'none')).toMatch(/^no worker is connected: nothing runs this directory .* 2 trial\(s\) wait: run the same npf run command to resume$/);
    expect(idleWarning(waiting, 'complete', 'none')).toBeUndefined();
  });

  it('trial board - npf status <sweep> view: the sweep line, the warning, the table and the ETA', () => {
    const info: SweepInfo = { sweepId: 'sw-0123456789ab', name: 'quick', state: 'running', createdAtMs: 0, counts: { blocked: 0, pending: 1, leased: 0, running: 1, succeeded: 1, failed: 0, cancelled: 0 }, cellsComplete: 0, cellsTotal: 3, bundles: 0, bundledTasks: 0 };
    const view = sweepView(info, [...board().values()], 'none', 80);
    expect(view[0]).toMatch(/^sw-0123456789ab +quick +running +1\/3 done/);
    expect(view[1]).toMatch(/^warning: no worker is connected/);
    expect(view).toContain('ETA 1m00s (mean trial time so far, over the trials running at once)');
    // The table is cut to the width; the sweep line and the warning wrap (printed once, never redrawn).
    expect(view.slice(3).every((l) => l.length <= 80)).toBe(true);
  });
});
