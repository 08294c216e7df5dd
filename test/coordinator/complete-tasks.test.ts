import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { CompleteTaskRequest, CompleteTasksResponse, TaskLease } from '../../gen/npf/v1/sweep.js';
import { fixtureResult, fixtureTask, refused, startHarness, submitFixtures, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** An item as the test builds it; the harness adds the worker's secret. */
type Item = Omit<CompleteTaskRequest, 'workerSecret'>;

function item(workerId: string, l: Pick<TaskLease, 'taskId' | 'fencingToken'>, acc = 0.9, resultJson = JSON.stringify(fixtureResult(acc))): Item {
  return { workerId, taskId: l.taskId, fencingToken: l.fencingToken, resultJson, artifacts: [], leaseNext: 0 };
}

function completeTasks(h: Harness, items: Item[], leaseNext = 0) {
  return h.w<CompleteTasksResponse>('completeTasks', { items, leaseNext });
}

const FOUR_SLOTS = { cpu: 4, gpu: 0, memoryMb: 16_000 };

describe('coordinator CompleteTasks', () => {
  it('complete-tasks - a batch of every task of a sweep records each result in one group commit and closes the sweep', async () => {
    h = await startHarness();
    const tasks = [0, 1, 2].map((seed) => fixtureTask({ seed }));
    const sweepId = await submitFixtures(h, tasks);
    const w = await h.register(FOUR_SLOTS);
    const held = await h.lease(w, 3);
    expect(held).toHaveLength(3);
    const commits = h.c.core.store.stats.commits;
    const res = await completeTasks(h, held.map((l, i) => item(w, l, 0.5 + i / 10)));
    expect(h.c.core.store.stats.commits - commits).toBe(1);
    expect(res.outcomes).toEqual(held.map((l) => ({ taskId: l.taskId, ok: true, code: status.OK, message: '' })));
    expect(res.nextLeases).toEqual([]);
    expect(held.map((l) => h!.c.core.result(l.taskId)?.bestTestAccuracy)).toEqual([0.5, 0.6, 0.7]);
    expect(h.c.core.getSweep(sweepId)).toMatchObject({ state: 'complete', counts: { succeeded: 3, leased: 0 } });
    expect(h.c.core.events(sweepId).filter((e) => e.type === 'sweep.complete')).toHaveLength(1);
  });

  it('complete-tasks - one stale fencing token refuses only that item; the others are stored and lease_next still leases', async () => {
    h = await startHarness({ leaseTtlMs: 10_000, retryBackoffMs: 1_000 });
    const tasks = [0, 1, 2, 3].map((seed) => fixtureTask({ seed }));
    await submitFixtures(h, tasks);
    const w = await h.register({ cpu: 3, gpu: 0, memoryMb: 16_000 });
    const held = await h.lease(w, 3);
    expect(held).toHaveLength(3);
    const stale = { ...held[1], fencingToken: held[1].fencingToken + 1 };
    const res = await completeTasks(h, [item(w, held[0]), item(w, stale), item(w, held[2])], 3);
    expect(res.outcomes.map((o) => [o.taskId, o.ok, o.code])).toEqual([
      [held[0].taskId, true, status.OK],
      [held[1].taskId, false, status.FAILED_PRECONDITION],
      [held[2].taskId, true, status.OK],
    ]);
    expect(res.outcomes[1].message).toMatch(/stale fencing token 2/);
    expect(h.c.core.taskState(held[0].taskId)).toMatchObject({ state: 'succeeded' });
    expect(h.c.core.taskState(held[2].taskId)).toMatchObject({ state: 'succeeded' });
    // The refused item is untouched: still leased, no result.
    expect(h.c.core.taskState(held[1].taskId)).toMatchObject({ state: 'leased', attempt: 1 });
    expect(h.c.core.result(held[1].taskId)).toBeUndefined();
    // Two slots freed, one task left to lease.
    expect(res.nextLeases.map((l) => l.taskId)).toEqual([tasks[3].taskId]);
    // The same batch again (a client retry): recorded items stay ok, the stale one is still refused.
    const again = await completeTasks(h, [item(w, held[0]), item(w, stale)]);
    expect(again.outcomes.map((o) => o.ok)).toEqual([true, false]);
  });

  it('complete-tasks - bad result_json in one item gives it INVALID_ARGUMENT without rolling back the others', async () => {
    h = await startHarness();
    const tasks = [0, 1].map((seed) => fixtureTask({ seed }));
    await submitFixtures(h, tasks);
    const w = await h.register(FOUR_SLOTS);
    const held = await h.lease(w, 2);
    const res = await completeTasks(h, [item(w, held[0], 0.9, '{"status": "succeeded", "bestTestAccuracy": "high"'), item(w, held[1], 0.8)]);
    expect(res.outcomes[0]).toMatchObject({ taskId: held[0].taskId, ok: false, code: status.INVALID_ARGUMENT });
    expect(res.outcomes[0].message).toContain(held[0].taskId);
    expect(res.outcomes[1]).toMatchObject({ taskId: held[1].taskId, ok: true, code: status.OK });
    expect(h.c.core.result(held[1].taskId)?.bestTestAccuracy).toBe(0.8);
    expect(h.c.core.taskState(held[0].taskId)).toMatchObject({ state: 'leased' });
  });

  it('complete-tasks - an item whose artifact was never uploaded is refused and leaves no trace, the rest of the batch stays', async () => {
    h = await startHarness();
    const tasks = [0, 1].map((seed) => fixtureTask({ seed }));
    const sweepId = await submitFixtures(h, tasks);
    const w = await h.register(FOUR_SLOTS);
    const held = await h.lease(w, 2);
    const bad = { ...item(w, held[0]), artifacts: [{ name: 'best', sha256: 'ab'.repeat(32), size: 3, epoch: 1 }] };
    const res = await completeTasks(h, [bad, item(w, held[1])]);
    expect(res.outcomes.map((o) => [o.ok, o.code])).toEqual([
      [false, status.INVALID_ARGUMENT],
      [true, status.OK],
    ]);
    // The refused item's writes were rolled back inside the batch: no 'succeeded' event, no attempt row.
    const succeeded = h.c.core.events(sweepId).filter((e) => e.type === 'task.succeeded').map((e) => e.taskId);
    expect(succeeded).toEqual([held[1].taskId]);
    expect(h.c.core.attemptsOf(held[0].taskId)).toEqual([]);
    expect(h.c.core.getSweep(sweepId)).toMatchObject({ state: 'running', counts: { succeeded: 1, leased: 1 } });
  });

  it('complete-tasks - a malformed call (no items, two workers, bad lease_next) is refused whole with INVALID_ARGUMENT', async () => {
    h = await startHarness();
    await submitFixtures(h, [fixtureTask({ seed: 0 }), fixtureTask({ seed: 1 })]);
    const x = await h.register(FOUR_SLOTS);
    const y = await h.register(FOUR_SLOTS);
    const lx = (await h.lease(x, 1))[0];
    const ly = (await h.lease(y, 1))[0];
    expect(await refused(completeTasks(h, []))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await refused(completeTasks(h, [item(x, lx), item(y, ly)]))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await refused(completeTasks(h, [item(x, lx)], -1))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(h.c.core.taskState(lx.taskId)).toMatchObject({ state: 'leased' });
    expect(h.c.core.taskState(ly.taskId)).toMatchObject({ state: 'leased' });
  });
});
