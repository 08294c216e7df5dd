import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TaskLease } from '../../gen/npf/v1/sweep.js';
import { fixtureResult, fixtureTask, refused, startHarness, submitFixtures, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function complete(h: Harness, workerId: string, l: TaskLease, acc = 0.9, st: 'succeeded' | 'diverged' = 'succeeded') {
  return h.w('completeTask', {
    workerId,
    taskId: l.taskId,
    fencingToken: l.fencingToken,
    resultJson: JSON.stringify(fixtureResult(acc, st)),
    artifacts: [],
  });
}

describe('coordinator leases', () => {
  it('leases - lease then complete finishes the sweep and stores the result', async () => {
    h = await startHarness();
    const tasks = [fixtureTask({ seed: 0 }), fixtureTask({ seed: 1 })];
    const sweepId = await submitFixtures(h, tasks);
    const wid = await h.register();
    const leases = await h.lease(wid, 8);
    expect(leases.map((l) => l.taskId).sort()).toEqual(tasks.map((t) => t.taskId).sort());
    expect(leases.every((l) => l.fencingToken === 1 && l.gpuIndex === -1 && l.sweepId === sweepId)).toBe(true);
    expect(JSON.parse(leases[0].specJson).dataset.name).toBe('mnist');
    for (const l of leases) await complete(h, wid, l, 0.8);
    const info = h.c.core.getSweep(sweepId);
    expect(info.state).toBe('complete');
    expect(info.counts?.succeeded).toBe(2);
    expect(info.cellsComplete).toBe(1);
    expect(info.cellsTotal).toBe(1);
    expect(h.c.core.result(tasks[0].taskId)?.bestTestAccuracy).toBe(0.8);
  });

  it('leases - a silent worker loses its lease; retried with exponential backoff up to maxAttempts, then failed', async () => {
    h = await startHarness({ maxAttempts: 3, retryBackoffMs: 1000, leaseTtlMs: 10_000 });
    const [t] = [fixtureTask()];
    const sweepId = await submitFixtures(h, [t]);
    const a = await h.register();
    const b = await h.register();
    expect((await h.lease(a))[0].fencingToken).toBe(1);

    // No heartbeat for a full TTL: the lease expires.
    h.clock.advance(9_999);
    expect(await h.c.core.expireLeases()).toBe(0);
    h.clock.advance(1);
    expect(await h.c.core.expireLeases()).toBe(1);
    expect(h.c.core.taskState(t.taskId)).toMatchObject({ state: 'pending', attempt: 1, tries: 1 });
    // Backoff 1000 ms * 2^0 before the 2nd attempt.
    expect(await h.lease(b)).toEqual([]);
    h.clock.advance(999);
    expect(await h.lease(b)).toEqual([]);
    h.clock.advance(1);
    const second = await h.lease(b);
    expect(second[0].fencingToken).toBe(2);

    // Heartbeats keep it alive past the TTL.
    h.clock.advance(8_000);
    await h.w('heartbeat', { workerId: b, tasks: [{ taskId: t.taskId, fencingToken: 2, epoch: 0, epochsJson: '' }], draining: false });
    h.clock.advance(8_000);
    expect(await h.c.core.expireLeases()).toBe(0);
    expect(h.c.core.taskState(t.taskId).state).toBe('running');
    h.clock.advance(2_000);
    expect(await h.c.core.expireLeases()).toBe(1);
    // 2nd backoff: 1000 * 2^1.
    h.clock.advance(1_999);
    expect(await h.lease(a)).toEqual([]);
    h.clock.advance(1);
    expect((await h.lease(a))[0].fencingToken).toBe(3);
    h.clock.advance(10_000);
    await h.c.core.expireLeases();
    const st = h.c.core.taskState(t.taskId);
    expect(st.state).toBe('failed');
    expect(st.error).toMatch(/^gave up after 3 attempts: lease expired: worker .* sent no heartbeat within 10000 ms$/);
    expect(h.c.core.getSweep(sweepId).state).toBe('failed');
    expect(h.c.core.attemptsOf(t.taskId).map((x) => [x.attempt, x.workerId, x.outcome])).toEqual([
      [1, a, 'expired'],
      [2, b, 'expired'],
      [3, a, 'expired'],
    ]);
    const types = h.c.core.events(sweepId).map((e) => e.type);
    expect(types.filter((x) => x === 'task.retried').length).toBe(2);
    expect(types.at(-1)).toBe('sweep.complete');
  });

  it('leases - a heartbeat renews only the leases the worker reports: a grant it never received expires', async () => {
    h = await startHarness({ leaseTtlMs: 10_000 });
    const tasks = [fixtureTask({ seed: 0 }), fixtureTask({ seed: 1 })];
    await submitFixtures(h, tasks);
    const wid = await h.register();
    const [held, lost] = await h.lease(wid, 2); // pretend the answer carrying `lost` never arrived
    for (let t = 0; t < 3; t++) {
      h.clock.advance(5_000);
      await h.w('heartbeat', { workerId: wid, tasks: [{ taskId: held.taskId, fencingToken: held.fencingToken, epoch: t, epochsJson: '' }], draining: false });
      await h.c.core.expireLeases();
    }
    expect(h.c.core.taskState(held.taskId)).toMatchObject({ state: 'running', attempt: 1 });
    expect(h.c.core.taskState(lost.taskId)).toMatchObject({ state: 'pending', attempt: 1, tries: 1 });
  });

  it('leases - a late result from a stale lease is refused and never overwrites the retry', async () => {
    h = await startHarness();
    const t = fixtureTask();
    await submitFixtures(h, [t]);
    const a = await h.register();
    const b = await h.register();
    const la = (await h.lease(a))[0];
    h.clock.advance(10_000);
    await h.c.core.expireLeases();
    h.clock.advance(1_000);
    const lb = (await h.lease(b))[0];
    expect(lb.fencingToken).toBe(2);
    await complete(h, b, lb, 0.75);

    const late = await refused(complete(h, a, la, 0.11));
    expect(late).toEqual({
      code: status.FAILED_PRECONDITION,
      details: `stale fencing token 1 for task ${t.taskId} (current attempt 2)`,
    });
    const lateFail = await refused(h
      .w('failTask', { workerId: a, taskId: t.taskId, fencingToken: 1, error: 'x', retryable: true })
      );
    expect(lateFail).toMatchObject({ code: status.FAILED_PRECONDITION });
    expect(h.c.core.result(t.taskId)?.bestTestAccuracy).toBe(0.75);
    expect(h.c.core.attemptsOf(t.taskId).map((x) => [x.attempt, x.workerId, x.outcome])).toEqual([
      [1, a, 'expired'],
      [2, b, 'succeeded'],
    ]);
    expect(h.c.core.taskState(t.taskId).state).toBe('succeeded');
    // The stale worker is told to stop it.
    const hb = await h.w<{ cancelTaskIds: string[] }>('heartbeat', {
      workerId: a,
      tasks: [{ taskId: t.taskId, fencingToken: 1, epoch: 1, epochsJson: '' }],
      draining: false,
    });
    expect(hb.cancelTaskIds).toEqual([t.taskId]);
  });

  it('leases - the holder reporting before the retry is leased still wins only with the current token', async () => {
    h = await startHarness();
    const t = fixtureTask();
    await submitFixtures(h, [t]);
    const a = await h.register();
    const la = (await h.lease(a))[0];
    h.clock.advance(10_000);
    await h.c.core.expireLeases();
    // Expired and pending again: the old token no longer holds a lease.
    const r = await refused(complete(h, a, la));
    expect(r).toEqual({ code: status.FAILED_PRECONDITION, details: `task ${t.taskId} is pending, not leased: fencing token 1 no longer holds a lease` });
  });

  it('leases - a deterministic failure is not retried; a diverged result is a success, never retried', async () => {
    h = await startHarness();
    const bad = fixtureTask({ seed: 1 });
    const div = fixtureTask({ seed: 2 });
    const sweepId = await submitFixtures(h, [bad, div]);
    const wid = await h.register();
    const leases = await h.lease(wid);
    const lb = leases.find((l) => l.taskId === bad.taskId)!;
    const ld = leases.find((l) => l.taskId === div.taskId)!;
    const r = await h.w<{ willRetry: boolean }>('failTask', {
      workerId: wid,
      taskId: bad.taskId,
      fencingToken: lb.fencingToken,
      error: 'dataset cifar10 needs dir',
      retryable: false,
    });
    expect(r.willRetry).toBe(false);
    expect(h.c.core.taskState(bad.taskId)).toMatchObject({ state: 'failed', error: 'dataset cifar10 needs dir', attempt: 1 });
    await complete(h, wid, ld, 0.1, 'diverged');
    expect(h.c.core.taskState(div.taskId)).toMatchObject({ state: 'succeeded', attempt: 1 });
    h.clock.advance(100_000);
    await h.c.core.expireLeases();
    expect(await h.lease(wid)).toEqual([]);
    const outcomes = h.c.core.outcomes(sweepId);
    expect(outcomes.find((o) => o.taskId === div.taskId)?.status).toBe('diverged');
    expect(outcomes.find((o) => o.taskId === bad.taskId)?.status).toBe('failed');
  });

  it('leases - a retryable failure is retried after backoff, then succeeds', async () => {
    h = await startHarness();
    const t = fixtureTask();
    await submitFixtures(h, [t]);
    const wid = await h.register();
    const l1 = (await h.lease(wid))[0];
    const r = await h.w<{ willRetry: boolean }>('failTask', { workerId: wid, taskId: t.taskId, fencingToken: 1, error: 'child OOM-killed', retryable: true });
    expect(r.willRetry).toBe(true);
    expect(l1.fencingToken).toBe(1);
    h.clock.advance(1_000);
    const l2 = (await h.lease(wid))[0];
    expect(l2.fencingToken).toBe(2);
    await complete(h, wid, l2);
    expect(h.c.core.taskState(t.taskId).state).toBe('succeeded');
  });

  it('leases - fractional GPU tasks pack per device through LeaseTasks and carry the device index', async () => {
    h = await startHarness();
    const tasks = Array.from({ length: 10 }, (_, i) => fixtureTask({ seed: i, resources: { cpu: 0.5, gpu: 0.25, memoryMb: 100 } }));
    await submitFixtures(h, tasks);
    const wid = await h.register({ cpu: 32, gpu: 2, memoryMb: 64_000 });
    const leases = await h.lease(wid, 100);
    expect(leases.length).toBe(8);
    expect(leases.map((l) => l.gpuIndex).sort()).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(await h.lease(wid, 100)).toEqual([]);
    await complete(h, wid, leases[0]);
    const more = await h.lease(wid, 100);
    expect(more.map((l) => l.gpuIndex)).toEqual([leases[0].gpuIndex]);
  });

  it('leases - parents outrank leaves; a trial shared by two sweeps runs once', async () => {
    h = await startHarness();
    const leaf = fixtureTask({ seed: 5 });
    const parent = fixtureTask({ seed: 6, priority: 100 });
    const child = fixtureTask({ seed: 6, regime: 'flnpf', parent: { taskId: parent.taskId, checkpoint: 'best' } });
    const s1 = await submitFixtures(h, [leaf, parent, child]);
    const s2 = await submitFixtures(h, [leaf]);
    expect(s1).not.toBe(s2);
    const wid = await h.register({ cpu: 1, gpu: 0, memoryMb: 8000 });
    const first = await h.lease(wid, 4);
    expect(first.map((l) => l.taskId)).toEqual([parent.taskId]);
    await complete(h, wid, first[0]);
    // The child failed (no checkpoint 'best'), so the leaf is next.
    const second = await h.lease(wid, 4);
    expect(second.map((l) => l.taskId)).toEqual([leaf.taskId]);
    await complete(h, wid, second[0]);
    expect(h.c.core.getSweep(s2).state).toBe('complete');
    expect(h.c.core.getSweep(s2).counts?.succeeded).toBe(1);
    // Resubmitting s2 runs nothing again.
    const again = await h.c.core.submitSweep({ name: 'again', fileName: 'f', specYaml: '', overrides: [], tasks: [leaf] });
    expect(again.alreadyDone).toBe(1);
    expect(h.c.core.getSweep(again.sweepId).state).toBe('complete');
    expect(await h.lease(wid)).toEqual([]);
  });

  it('leases - LeaseTasks long-polls until a task is ready', async () => {
    h = await startHarness();
    const wid = await h.register();
    const pending = h.lease(wid, 1, 20_000);
    await new Promise((r) => setTimeout(r, 50));
    const t = fixtureTask();
    await submitFixtures(h, [t]);
    const leases = await pending;
    expect(leases.map((l) => l.taskId)).toEqual([t.taskId]);
  });

  it('leases - CancelSweep cancels unfinished tasks, keeps results, and tells the worker to stop', async () => {
    h = await startHarness();
    const tasks = [0, 1, 2].map((seed) => fixtureTask({ seed }));
    const sweepId = await submitFixtures(h, tasks);
    const wid = await h.register({ cpu: 2, gpu: 0, memoryMb: 8000 });
    const [l1, l2] = await h.lease(wid);
    await complete(h, wid, l1);
    const r = await h.s<{ cancelledTasks: number }>('cancelSweep', { sweepId });
    expect(r.cancelledTasks).toBe(2);
    expect(h.c.core.getSweep(sweepId)).toMatchObject({ state: 'cancelled', counts: { succeeded: 1, cancelled: 2 } });
    const hb = await h.w<{ cancelTaskIds: string[] }>('heartbeat', {
      workerId: wid,
      tasks: [{ taskId: l2.taskId, fencingToken: l2.fencingToken, epoch: 1, epochsJson: '' }],
      draining: false,
    });
    expect(hb.cancelTaskIds).toEqual([l2.taskId]);
    const late = await refused(complete(h, wid, l2));
    expect(late).toEqual({ code: status.FAILED_PRECONDITION, details: `task ${l2.taskId} is cancelled, not leased: fencing token 1 no longer holds a lease` });
    expect(h.c.core.result(l1.taskId)).toBeDefined();
    // Resubmitting re-arms the cancelled trials; the finished one is not run again.
    const again = await h.c.core.submitSweep({ name: h.c.core.getSweep(sweepId).name, fileName: 'f', specYaml: '', overrides: [], tasks });
    expect(again).toMatchObject({ sweepId, alreadyDone: 1 });
    expect(h.c.core.getSweep(sweepId)).toMatchObject({ state: 'running', counts: { succeeded: 1, pending: 2 } });
  });

  it('leases - a draining worker is leased nothing', async () => {
    h = await startHarness();
    await submitFixtures(h, [fixtureTask()]);
    const wid = await h.register();
    await h.w('heartbeat', { workerId: wid, tasks: [], draining: true });
    expect(await h.lease(wid)).toEqual([]);
    await h.w('heartbeat', { workerId: wid, tasks: [], draining: false });
    expect((await h.lease(wid)).length).toBe(1);
  });

  it('leases - with the real clock, the expiry timer requeues a silent worker\'s lease', async () => {
    h = await startHarness({ now: undefined, leaseTtlMs: 200, expiryCheckMs: 20, retryBackoffMs: 0 });
    const t = fixtureTask();
    await submitFixtures(h, [t]);
    const wid = await h.register();
    await h.lease(wid);
    await vi.waitFor(() => expect(h!.c.core.taskState(t.taskId)).toMatchObject({ state: 'pending', tries: 1 }), { timeout: 10_000, interval: 20 });
    const again = await h.lease(wid);
    expect(again[0].fencingToken).toBe(2);
  });

  it('leases - a full worker\'s open long poll is answered as soon as its own completion frees a slot', async () => {
    h = await startHarness();
    const tasks = [0, 1].map((seed) => fixtureTask({ seed }));
    await submitFixtures(h, tasks);
    const wid = await h.register({ cpu: 1, gpu: 0, memoryMb: 8000 });
    const [first] = await h.lease(wid, 1);
    // Full: this poll can only be answered by the completion below (or its 60 s deadline).
    const next = h.lease(wid, 1, 60_000);
    await new Promise((r) => setTimeout(r, 50));
    await complete(h, wid, first);
    const leases = await next;
    expect(leases.map((l) => l.taskId)).toEqual([tasks.find((t) => t.taskId !== first.taskId)!.taskId]);
  }, 20_000);
});
