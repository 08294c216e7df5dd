import { afterEach, describe, expect, it } from 'vitest';
import { fixtureTask, refused, startHarness, submitFixtures, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('coordinator releaseAllLeases', () => {
  it('release - every lease goes back to pending at once, as an interrupted attempt (no backoff, not counted); the old token is refused', async () => {
    h = await startHarness({ leaseTtlMs: 600_000, retryBackoffMs: 1_000, maxAttempts: 3 });
    const tasks = [0, 1, 2].map((seed) => fixtureTask({ seed }));
    const sweepId = await submitFixtures(h, tasks);
    const gone = await h.register();
    const leases = await h.lease(gone, 2);
    expect(leases).toHaveLength(2);

    // Long before the TTL: nothing has expired, but the leases are released.
    h.clock.advance(1_000);
    expect(await h.c.core.expireLeases()).toBe(0);
    expect(await h.c.core.releaseAllLeases('its worker is gone')).toBe(2);
    for (const l of leases) {
      expect(h.c.core.taskState(l.taskId)).toMatchObject({ state: 'pending', attempt: 1, tries: 0, notBeforeMs: 0 });
      expect(h.c.core.attemptsOf(l.taskId)).toEqual([{ attempt: 1, workerId: gone, outcome: 'interrupted', error: 'lease released: its worker is gone' }]);
    }
    expect(h.c.core.taskState(tasks[2].taskId)).toMatchObject({ state: 'pending', attempt: 0 });
    expect(h.c.core.events(sweepId).filter((e) => e.type === 'task.retried')).toHaveLength(2);
    // Nothing more to release; the old holder's report is refused.
    expect(await h.c.core.releaseAllLeases('again')).toBe(0);
    const late = await refused(
      h.w('failTask', { workerId: gone, taskId: leases[0].taskId, fencingToken: 1, error: 'x', retryable: true }),
    );
    expect(late.details).toMatch(/not leased|stale/);

    // At once (no backoff) a new worker gets them with the next fencing token.
    const fresh = await h.register();
    const again = await h.lease(fresh, 8);
    expect(again.map((l) => [l.taskId, l.fencingToken]).sort()).toEqual(
      [...leases.map((l) => [l.taskId, 2]), [tasks[2].taskId, 1]].sort(),
    );
  });

  it('release - a task allowed one attempt is released again and again and never fails for it', async () => {
    h = await startHarness({ leaseTtlMs: 600_000, retryBackoffMs: 0, maxAttempts: 1 });
    const t = fixtureTask();
    const sweepId = await submitFixtures(h, [t]);
    const w = await h.register();
    for (let i = 0; i < 3; i++) {
      await h.lease(w);
      expect(await h.c.core.releaseAllLeases('its worker is gone')).toBe(1);
      expect(h.c.core.taskState(t.taskId)).toMatchObject({ state: 'pending', tries: 0 });
    }
    expect(h.c.core.getSweep(sweepId).state).toBe('running');
  });
});
