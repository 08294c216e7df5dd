/**
 * Interrupts are not failures (a drained worker's FailTask with `interrupted`, a 'cancelled'
 * result, a released lease: none uses up one of the task's attempts, none waits a backoff), and
 * CancelSweep with task_ids cancels single trials.
 */
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveTrialRef } from '../../coordinator/core/sweeps.js';
import type { TaskLease } from '../../gen/npf/v1/sweep.js';
import { fixtureResult, fixtureTask, refused, startHarness, submitFixtures, uploadArtifact, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function complete(h: Harness, workerId: string, l: TaskLease, st: 'succeeded' | 'cancelled' = 'succeeded') {
  return h.w('completeTask', { workerId, taskId: l.taskId, fencingToken: l.fencingToken, resultJson: JSON.stringify(fixtureResult(0.9, st)), artifacts: [] });
}

describe('coordinator interrupts', () => {
  it('interrupts - drains, cancelled results and released leases never count against max attempts', async () => {
    h = await startHarness({ leaseTtlMs: 600_000, retryBackoffMs: 10_000, maxAttempts: 2 });
    const t = fixtureTask();
    const sweepId = await submitFixtures(h, [t]);
    const w = await h.register();
    // Five interruptions of three kinds on a task allowed two attempts: it never fails, never waits.
    for (let i = 0; i < 5; i++) {
      const [l] = await h.lease(w);
      expect(l.fencingToken).toBe(i + 1);
      if (i % 3 === 0) {
        const r = await h.w<{ willRetry: boolean }>('failTask', { workerId: w, taskId: t.taskId, fencingToken: l.fencingToken, error: 'worker was stopped (draining)', retryable: true, interrupted: true });
        expect(r.willRetry).toBe(true);
      } else if (i % 3 === 1) {
        await complete(h, w, l, 'cancelled');
      } else {
        expect(await h.c.core.releaseAllLeases('its run was interrupted')).toBe(1);
      }
      expect(h.c.core.taskState(t.taskId)).toMatchObject({ state: 'pending', tries: 0, notBeforeMs: 0, error: null });
    }
    expect(h.c.core.attemptsOf(t.taskId).map((a) => a.outcome)).toEqual(['interrupted', 'interrupted', 'interrupted', 'interrupted', 'interrupted']);
    const retried = h.c.core.events(sweepId).filter((e) => e.type === 'task.retried');
    expect(retried.map((e) => (e.payload as { reason: string }).reason)).toEqual(Array(5).fill('interrupted'));
    // Real failures still count: two failed attempts (the max) fail it for good, and the message
    // counts only those two.
    const [l6] = await h.lease(w);
    await h.w('failTask', { workerId: w, taskId: t.taskId, fencingToken: l6.fencingToken, error: 'child OOM-killed', retryable: true, interrupted: false });
    h.clock.advance(10_000);
    const [l7] = await h.lease(w);
    await h.w('failTask', { workerId: w, taskId: t.taskId, fencingToken: l7.fencingToken, error: 'child OOM-killed', retryable: true, interrupted: false });
    expect(h.c.core.taskState(t.taskId)).toMatchObject({ state: 'failed', error: 'gave up after 2 attempts: child OOM-killed' });
  });

  it('interrupts - an interrupted attempt is refused when its fencing token is stale, like any report', async () => {
    h = await startHarness({ leaseTtlMs: 1_000 });
    const t = fixtureTask();
    await submitFixtures(h, [t]);
    const w = await h.register();
    const [l] = await h.lease(w);
    h.clock.advance(2_000);
    await h.c.core.expireLeases();
    const r = await refused(h.w('failTask', { workerId: w, taskId: t.taskId, fencingToken: l.fencingToken, error: 'drained', retryable: true, interrupted: true }));
    expect(r.code).toBe(status.FAILED_PRECONDITION);
    // The expiry (a lost worker, not an interrupt) counted.
    expect(h.c.core.taskState(t.taskId)).toMatchObject({ state: 'pending', tries: 1 });
  });
});

describe('coordinator resume states', () => {
  it('resume - the next attempt of an interrupted task is leased with the resume state the last one uploaded; success forgets it', async () => {
    h = await startHarness();
    const t = fixtureTask();
    await submitFixtures(h, [t]);
    const w = await h.register();
    const [l1] = await h.lease(w);
    expect(l1.resumeFrom).toBeUndefined();
    // The running attempt uploads resume states as it goes; the latest one counts.
    await uploadArtifact(h, l1, 'resume', Buffer.from('state after epoch 1'));
    const latest = await uploadArtifact(h, l1, 'resume', Buffer.from('state after epoch 2'));
    await h.w('failTask', { workerId: w, taskId: t.taskId, fencingToken: 1, error: 'worker was stopped (draining)', retryable: true, interrupted: true });
    const [l2] = await h.lease(w);
    expect(l2.fencingToken).toBe(2);
    expect(l2.resumeFrom).toMatchObject({ name: 'resume', sha256: latest.sha256, size: latest.size });
    await h.w('completeTask', { workerId: w, taskId: t.taskId, fencingToken: 2, resultJson: JSON.stringify({ ...fixtureResult(0.9), resumedFromEpoch: 2 }), artifacts: [] });
    expect(h.c.core.artifactsOf(t.taskId).map((a) => a.name)).not.toContain('resume');
    expect(h.c.core.result(t.taskId)?.resumedFromEpoch).toBe(2);
  });
});

describe('coordinator trial cancels', () => {
  it('cancel - CancelSweep with task_ids cancels only those trials (id or unique prefix); the sweep goes on and closes after', async () => {
    h = await startHarness();
    const tasks = [0, 1, 2].map((seed) => fixtureTask({ seed }));
    const sweepId = await submitFixtures(h, tasks);
    const w = await h.register({ cpu: 1, gpu: 0, memoryMb: 8000 });
    const [leased] = await h.lease(w);
    const others = tasks.filter((t) => t.taskId !== leased.taskId);
    const r = await h.s<{ cancelledTasks: number; cancelledTaskIds: string[] }>('cancelSweep', { sweepId, taskIds: [leased.taskId.slice(0, 10), others[0].taskId] });
    expect(r).toEqual({ cancelledTasks: 2, cancelledTaskIds: [leased.taskId, others[0].taskId] });
    expect(h.c.core.getSweep(sweepId)).toMatchObject({ state: 'running', counts: { cancelled: 2, pending: 1 } });
    // The worker running the cancelled trial is told to stop.
    const hb = await h.w<{ cancelTaskIds: string[] }>('heartbeat', { workerId: w, tasks: [{ taskId: leased.taskId, fencingToken: 1, epoch: 1, epochsJson: '' }], draining: false });
    expect(hb.cancelTaskIds).toEqual([leased.taskId]);
    expect(h.c.core.attemptsOf(leased.taskId)).toMatchObject([{ outcome: 'cancelled' }]);
    const cancelledEvents = h.c.core.events(sweepId).filter((e) => e.type === 'task.cancelled');
    expect(cancelledEvents.map((e) => e.taskId).sort()).toEqual([leased.taskId, others[0].taskId].sort());
    // Cancelling it again (finished now) changes nothing.
    expect((await h.s<{ cancelledTasks: number }>('cancelSweep', { sweepId, taskIds: [others[0].taskId] })).cancelledTasks).toBe(0);
    // The last trial runs; the sweep then closes as complete, counting the cancelled ones.
    const [last] = await h.lease(w);
    expect(last.taskId).toBe(others[1].taskId);
    await complete(h, w, last);
    expect(h.c.core.getSweep(sweepId)).toMatchObject({ state: 'complete', counts: { succeeded: 1, cancelled: 2 } });
  });

  it('cancel - an unknown, too short or ambiguous trial reference is refused, naming it', async () => {
    h = await startHarness();
    const tasks = Array.from({ length: 3 }, (_, seed) => fixtureTask({ seed }));
    const sweepId = await submitFixtures(h, tasks);
    const unknown = await refused(h.s('cancelSweep', { sweepId, taskIds: ['ffffffffffff'] }));
    expect(unknown).toEqual({ code: status.NOT_FOUND, details: `unknown task 'ffffffffffff': no trial of sweep ${sweepId} has this id` });
    const short = await refused(h.s('cancelSweep', { sweepId, taskIds: ['ab'] }));
    expect(short).toEqual({ code: status.INVALID_ARGUMENT, details: "trial 'ab': give the task id or at least 6 of its first characters" });
    expect(h.c.core.getSweep(sweepId).counts.cancelled).toBe(0);
  });

  it('cancel - resolveTrialRef: an exact id, a unique prefix, an ambiguous prefix', () => {
    const ids = ['abcdef0011', 'abcdef0022', '1234567890'];
    expect(resolveTrialRef('sw-x', ids, 'ABCDEF0011')).toBe('abcdef0011');
    expect(resolveTrialRef('sw-x', ids, '123456')).toBe('1234567890');
    expect(() => resolveTrialRef('sw-x', ids, 'abcdef')).toThrow("trial 'abcdef' is ambiguous in sweep sw-x: 2 trials start with it (abcdef0011, abcdef0022...)");
  });
});
