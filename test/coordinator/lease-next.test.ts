import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { CompleteTaskResponse, TaskLease } from '../../gen/npf/v1/sweep.js';
import { fixtureResult, fixtureTask, refused, startHarness, submitFixtures, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** CompleteTask with lease_next (the worker's one-round-trip path). */
function completeAndLease(h: Harness, workerId: string, l: Pick<TaskLease, 'taskId' | 'fencingToken'>, leaseNext: number, acc = 0.9) {
  return h.w<CompleteTaskResponse>('completeTask', {
    workerId,
    taskId: l.taskId,
    fencingToken: l.fencingToken,
    resultJson: JSON.stringify(fixtureResult(acc)),
    artifacts: [],
    leaseNext,
  });
}

const ONE_SLOT = { cpu: 1, gpu: 0, memoryMb: 16_000 };

describe('coordinator lease_next', () => {
  it('lease-next - CompleteTask with lease_next records the result and leases the next task with a fresh fencing token', async () => {
    h = await startHarness({ leaseTtlMs: 10_000, retryBackoffMs: 1_000 });
    const [a, b] = [fixtureTask({ seed: 0 }), fixtureTask({ seed: 1 })];
    const sweepId = await submitFixtures(h, [a, b]);
    const x = await h.register(ONE_SLOT);
    const y = await h.register(ONE_SLOT);
    const la = (await h.lease(x))[0];
    const lb = (await h.lease(y))[0];
    expect([la.taskId, lb.taskId]).toEqual([a.taskId, b.taskId]);
    // y goes silent: b's first attempt expires and b waits out its backoff.
    h.clock.advance(10_000);
    await h.w('heartbeat', { workerId: x, tasks: [{ taskId: a.taskId, fencingToken: 1, epoch: 0, epochsJson: '' }], draining: false });
    expect(await h.c.core.expireLeases()).toBe(1);
    h.clock.advance(1_000);

    const res = await completeAndLease(h, x, la, 1, 0.8);
    expect(h.c.core.result(a.taskId)?.bestTestAccuracy).toBe(0.8);
    expect(res.nextLeases).toHaveLength(1);
    const next = res.nextLeases[0];
    expect(next).toMatchObject({ taskId: b.taskId, sweepId, fencingToken: 2, gpuIndex: -1 });
    expect(JSON.parse(next.specJson).seed).toBe(1);
    expect(h.c.core.taskState(b.taskId)).toMatchObject({ state: 'leased', attempt: 2, tries: 2 });
    // The fresh token is the only one that holds b now: y's old one is refused.
    expect(await refused(completeAndLease(h, y, lb, 1))).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect(h.c.core.taskState(b.taskId)).toMatchObject({ state: 'leased', attempt: 2 });

    // Nothing left to lease: the answer is empty and the sweep completes.
    const last = await completeAndLease(h, x, next, 1, 0.7);
    expect(last.nextLeases).toEqual([]);
    expect(h.c.core.getSweep(sweepId)).toMatchObject({ state: 'complete', counts: { succeeded: 2 } });
    expect(h.c.core.attemptsOf(b.taskId).map((t) => [t.attempt, t.workerId, t.outcome])).toEqual([
      [1, y, 'expired'],
      [2, x, 'succeeded'],
    ]);
  });

  it('lease-next - leases only what fits the resources the completion freed', async () => {
    h = await startHarness();
    const tasks = [0, 1, 2, 3, 4].map((seed) => fixtureTask({ seed }));
    await submitFixtures(h, tasks);
    const w = await h.register({ cpu: 2, gpu: 0, memoryMb: 16_000 });
    const held = await h.lease(w, 8);
    expect(held).toHaveLength(2);
    // Asks for 5, but one cpu freed: one lease.
    const res = await completeAndLease(h, w, held[0], 5);
    expect(res.nextLeases.map((l) => l.taskId)).toEqual([tasks[2].taskId]);
    expect(res.nextLeases[0].fencingToken).toBe(1);
    // lease_next = 0 (what older workers send) leases nothing.
    const none = await completeAndLease(h, w, held[1], 0);
    expect(none.nextLeases).toEqual([]);
    expect(h.c.core.taskState(tasks[3].taskId)).toMatchObject({ state: 'pending', attempt: 0 });
  });

  it('lease-next - a stale-token CompleteTask with lease_next is refused and leases nothing', async () => {
    h = await startHarness({ leaseTtlMs: 10_000, retryBackoffMs: 1_000 });
    const [t, other] = [fixtureTask({ seed: 0 }), fixtureTask({ seed: 1 })];
    const sweepId = await submitFixtures(h, [t, other]);
    const a = await h.register(ONE_SLOT);
    const b = await h.register(ONE_SLOT);
    const la = (await h.lease(a))[0];
    expect(la.taskId).toBe(t.taskId);
    h.clock.advance(10_000);
    expect(await h.c.core.expireLeases()).toBe(1);
    h.clock.advance(1_000);
    const lb = (await h.lease(b))[0];
    expect(lb).toMatchObject({ taskId: t.taskId, fencingToken: 2 });
    const eventsBefore = h.c.core.events(sweepId).length;

    const late = await refused(completeAndLease(h, a, la, 1, 0.11));
    expect(late).toEqual({ code: status.FAILED_PRECONDITION, details: `stale fencing token 1 for task ${t.taskId} (current attempt 2)` });
    // Nothing was leased (the other task is still pending, untouched) and nothing was recorded.
    expect(h.c.core.taskState(other.taskId)).toMatchObject({ state: 'pending', attempt: 0, tries: 0 });
    expect(h.c.core.events(sweepId)).toHaveLength(eventsBefore);
    expect(h.c.core.result(t.taskId)).toBeUndefined();
    expect(h.c.core.taskState(t.taskId)).toMatchObject({ state: 'leased', attempt: 2 });
    // An unknown artifact also refuses the whole report, lease included.
    const bad = await refused(
      h.w('completeTask', {
        workerId: b,
        taskId: t.taskId,
        fencingToken: 2,
        resultJson: JSON.stringify(fixtureResult()),
        artifacts: [{ name: 'best', sha256: 'a'.repeat(64), size: 1, epoch: 1 }],
        leaseNext: 1,
      }),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(h.c.core.taskState(other.taskId)).toMatchObject({ state: 'pending', attempt: 0 });
    // The current holder's report with lease_next goes through.
    const ok = await completeAndLease(h, b, lb, 1, 0.75);
    expect(ok.nextLeases.map((l) => [l.taskId, l.fencingToken])).toEqual([[other.taskId, 1]]);
  });

  it('lease-next - a draining worker gets no next lease; a negative lease_next is INVALID_ARGUMENT', async () => {
    h = await startHarness();
    const [t, other] = [fixtureTask({ seed: 0 }), fixtureTask({ seed: 1 })];
    await submitFixtures(h, [t, other]);
    const w = await h.register(ONE_SLOT);
    const l = (await h.lease(w))[0];
    expect((await refused(completeAndLease(h, w, l, -1))).code).toBe(status.INVALID_ARGUMENT);
    await h.w('heartbeat', { workerId: w, tasks: [{ taskId: l.taskId, fencingToken: 1, epoch: 0, epochsJson: '' }], draining: true });
    const res = await completeAndLease(h, w, l, 1);
    expect(res.nextLeases).toEqual([]);
    expect(h.c.core.taskState(t.taskId).state).toBe('succeeded');
    expect(h.c.core.taskState(other.taskId).state).toBe('pending');
  });
});
