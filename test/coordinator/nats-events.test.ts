import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { followSweepFromNats } from '../../events/follow-sweep.js';
import type { NpfEvent } from '../../events/event-schema.js';
import { formatEvent } from '../../events/format-event.js';
import { freePort, natsServerBinary, startNatsServer, type NatsServerProcess } from '../events/nats-server-process.js';
import { fixtureResult, fixtureTask, startHarness, submitFixtures, type Harness } from './harness.js';

let h: Harness | undefined;
let nats: NatsServerProcess | undefined;
let store: string | undefined;

afterEach(async () => {
  await h?.close();
  await nats?.kill();
  if (store) fs.rmSync(store, { recursive: true, force: true });
  h = nats = store = undefined;
});

const hasNats = (() => {
  try {
    natsServerBinary();
    return true;
  } catch {
    return false;
  }
})();

describe('coordinator - NATS events', () => {
  it.skipIf(!hasNats)('a sweep run through the coordinator can be replayed from JetStream by a late subscriber', async () => {
    store = fs.mkdtempSync(path.join(os.tmpdir(), 'npf-nats-coord-'));
    nats = await startNatsServer(await freePort(), store);
    h = await startHarness({ nats: { url: nats.url, required: true } });
    const task = fixtureTask();
    const sweepId = await submitFixtures(h, [task]);
    const workerId = await h.register();
    const [lease] = await h.lease(workerId);
    const epoch = fixtureResult(0.91).epochs[0];
    await h.w('heartbeat', { workerId, tasks: [{ taskId: lease.taskId, fencingToken: lease.fencingToken, epoch: 1, epochsJson: JSON.stringify([epoch]) }], draining: false });
    await h.w('completeTask', {
      workerId,
      taskId: lease.taskId,
      fencingToken: lease.fencingToken,
      resultJson: JSON.stringify(fixtureResult(0.91)),
      artifacts: [],
    });
    const seen: NpfEvent[] = [];
    const r = await followSweepFromNats({ url: nats.url, sweepId, fromStart: true, onEvent: (e) => void seen.push(e) });
    expect(r.end).toBe('complete');
    expect(seen.map((e) => e.type)).toEqual(['sweep.submitted', 'task.leased', 'task.progress', 'task.succeeded', 'sweep.complete']);
    // The coordinator's own events, published as they are: what WatchSweep streams is what NATS carries.
    const stored = h.c.core.events(sweepId);
    expect(seen.map(({ type, sweepId: s, taskId, payload }) => ({ type, sweepId: s, taskId, payload }))).toEqual(
      stored.map(({ type, sweepId: s, taskId, payload }) => ({ type, sweepId: s, taskId, payload })),
    );
    // A follower sees the trial's epoch count (the fixture spec runs 2 epochs), not 'epoch 1/0'.
    expect(seen[2]).toMatchObject({ taskId: task.taskId, payload: { attempt: 1, epoch: 1, epochs: 2, testAccuracy: 0.91 } });
    expect(formatEvent(seen[2])).toMatch(/ {2}epoch 1\/2 {2}test acc 91\.00%/);
    expect(seen[3]).toMatchObject({ taskId: task.taskId, payload: { bestTestAccuracy: 0.91, diverged: false } });
    expect(r.missed).toBe(0);
  });
});
