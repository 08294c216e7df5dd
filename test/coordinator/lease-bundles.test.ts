import { afterEach, describe, expect, it } from 'vitest';
import type { TaskLease } from '../../gen/npf/v1/sweep.js';
import { fusionKey } from '../../science/fused/fusion-key.js';
import type { ExpandedTask } from '../../coordinator/sweep-types.js';
import { fixtureResult, fixtureTask, startHarness, submitFixtures, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A fixture task that may be bundled (its spec's fusion key; `max` 0: the worker's limit). */
function fusable(opts: Parameters<typeof fixtureTask>[0] = {}, max = 0): ExpandedTask {
  const t = fixtureTask(opts);
  return { ...t, fusion: { key: fusionKey(t.spec) as string, max } };
}

async function register(h: Harness, maxBundle: number, resources = { cpu: 2, gpu: 0, memoryMb: 16_000 }): Promise<string> {
  const r = await h.w<{ workerId: string }>('registerWorker', { hostname: 'test', resources, backends: ['wasm'], version: 't', maxBundle });
  return r.workerId;
}

function complete(h: Harness, workerId: string, l: TaskLease, acc = 0.9): Promise<unknown> {
  return h.w('completeTask', { workerId, taskId: l.taskId, fencingToken: l.fencingToken, resultJson: JSON.stringify(fixtureResult(acc)), artifacts: [] });
}

const byBundle = (leases: TaskLease[]): Map<string, string[]> => {
  const m = new Map<string, string[]>();
  for (const l of leases) m.set(l.bundleId, [...(m.get(l.bundleId) ?? []), l.taskId]);
  return m;
};

describe('coordinator - bundles of fused trials', () => {
  it('lease-bundles - a worker that fuses gets compatible first-attempt tasks as one bundle per slot; each member has its own lease and fencing token', async () => {
    h = await startHarness();
    const tasks = [0, 1, 2, 3, 4].map((seed) => fusable({ seed }));
    const other = fusable({ seed: 9, regime: 'dnpfl' });
    const sweepId = await submitFixtures(h, [...tasks, other]);
    const w = await register(h, 4, { cpu: 1, gpu: 0, memoryMb: 16_000 });
    const leases = await h.lease(w, 1);
    // One slot: one bundle of 4 (the worker's limit) with the same fusion key; dnpfl is another key.
    expect(leases).toHaveLength(4);
    const bundles = byBundle(leases);
    expect(bundles.size).toBe(1);
    const [bundleId, members] = [...bundles][0];
    expect(bundleId).toBe(leases[0].taskId);
    expect(members.every((id) => tasks.some((t) => t.taskId === id))).toBe(true);
    for (const l of leases) expect(l.fencingToken).toBe(1);
    expect(h.c.core.getSweep(sweepId)).toMatchObject({ bundles: 1, bundledTasks: 4, counts: { leased: 4, pending: 2 } });
    // The bundle holds one task's resources: the worker's single cpu is taken, nothing else fits.
    expect(await h.lease(w, 1)).toEqual([]);

    // Members report alone, each with its own token; a member reported twice or with a wrong token is refused alone.
    await complete(h, w, leases[0], 0.8);
    await expect(h.w('completeTask', { workerId: w, taskId: leases[1].taskId, fencingToken: 7, resultJson: JSON.stringify(fixtureResult()), artifacts: [] })).rejects.toMatchObject({
      code: 9,
    });
    for (const l of leases.slice(1)) await complete(h, w, l);
    expect(h.c.core.getSweep(sweepId)).toMatchObject({ bundles: 0, bundledTasks: 0, counts: { succeeded: 4 } });
    // The slot is free again: the rest (one relu, one dnpfl: different keys) come one per slot.
    const rest = await h.lease(w, 1);
    expect(rest).toHaveLength(1);
    expect(rest[0].bundleId).toBe('');
  });

  it("lease-bundles - the sweep's fuse caps a bundle; a worker without fusion, a task without a key and a retried task run alone", async () => {
    h = await startHarness({ maxAttempts: 5 });
    const capped = [0, 1, 2, 3].map((seed) => fusable({ seed, lr: 0.5 }, 2));
    const alone = fixtureTask({ seed: 7, lr: 0.25 }); // no fusion key: its sweep said fuse: off
    await submitFixtures(h, [...capped, alone]);
    const plain = await register(h, 1, { cpu: 1, gpu: 0, memoryMb: 16_000 });
    const one = await h.lease(plain, 1);
    expect(one).toHaveLength(1);
    expect(one[0].bundleId).toBe('');

    const fuser = await register(h, 8, { cpu: 3, gpu: 0, memoryMb: 16_000 });
    const got = await h.lease(fuser, 3);
    // The remaining three capped tasks: a bundle of 2 (the sweep's cap), then the third alone
    // (no compatible task left); a slot whose placed task joined the bundle stays free.
    expect([...byBundle(got).entries()].map(([id, m]) => [id === '' ? 'alone' : 'bundle', m.length]).sort()).toEqual([
      ['alone', 1],
      ['bundle', 2],
    ]);
    const next = await h.lease(fuser, 3);
    expect(next.map((l) => [l.taskId, l.bundleId])).toEqual([[alone.taskId, '']]);

    // Members whose leases expire are retried alone, even with compatible tasks ready.
    const bundled = got.filter((l) => l.bundleId !== '');
    h.clock.advance(11_000);
    expect(await h.c.core.expireLeases()).toBe(5);
    h.clock.advance(60_000);
    const again = await h.lease(fuser, 3);
    expect(again).toHaveLength(3);
    for (const l of again) expect(l.bundleId).toBe('');
    const retried = again.filter((l) => bundled.some((b) => b.taskId === l.taskId));
    expect(retried.length).toBeGreaterThan(0);
    for (const l of retried) expect(l.fencingToken).toBe(2);
  });

  it('lease-bundles - npf_leases_granted_total counts every member, npf_bundles_granted_total the bundles', async () => {
    h = await startHarness();
    await submitFixtures(h, [0, 1, 2].map((seed) => fusable({ seed })));
    const w = await register(h, 8);
    expect(await h.lease(w, 1)).toHaveLength(3);
    const text = await (await fetch(`http://${h.c.httpAddress}/metrics`)).text();
    expect(text).toMatch(/^npf_leases_granted_total 3$/m);
    expect(text).toMatch(/^npf_bundles_granted_total 1$/m);
  });
});
