import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { followSweepFromNats } from '../../events/follow-sweep.js';
import type { NpfEvent } from '../../events/event-schema.js';
import { toBusEvent } from '../../coordinator/nats-bridge.js';
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
  it('maps every coordinator event type onto a v1 bus event', () => {
    const base = { sequence: 1, timeMs: 0, sweepId: 's', taskId: 't' };
    expect(toBusEvent({ ...base, type: 'leased', payload: { workerId: 'w', attempt: 2 } })).toEqual({
      type: 'task.leased',
      sweepId: 's',
      taskId: 't',
      payload: { workerId: 'w', attempt: 2 },
    });
    expect(toBusEvent({ ...base, type: 'succeeded', payload: { attempt: 1, bestTestAccuracy: 0.9, status: 'diverged' } })?.payload).toMatchObject({
      bestTestAccuracy: 0.9,
      diverged: true,
    });
    expect(toBusEvent({ ...base, taskId: '', type: 'sweep_complete', payload: { state: 'cancelled' } })?.type).toBe('sweep.cancelled');
    expect(toBusEvent({ ...base, taskId: '', type: 'sweep_complete', payload: { state: 'complete', counts: { succeeded: 3 } } })).toMatchObject({
      type: 'sweep.complete',
      payload: { succeeded: 3, failed: 0, cancelled: 0 },
    });
    expect(toBusEvent({ ...base, type: 'failed', payload: { attempt: 3, error: 'boom' } })?.payload).toMatchObject({ message: 'boom' });
  });

  it.skipIf(!hasNats)('a sweep run through the coordinator can be replayed from JetStream by a late subscriber', async () => {
    store = fs.mkdtempSync(path.join(os.tmpdir(), 'npf-nats-coord-'));
    nats = await startNatsServer(await freePort(), store);
    h = await startHarness({ nats: { url: nats.url, required: true } });
    const task = fixtureTask();
    const sweepId = await submitFixtures(h, [task]);
    const workerId = await h.register();
    const [lease] = await h.lease(workerId);
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
    expect(seen.map((e) => e.type)).toEqual(['sweep.submitted', 'task.leased', 'task.succeeded', 'sweep.complete']);
    expect(seen[2]).toMatchObject({ taskId: task.taskId, payload: { bestTestAccuracy: 0.91 } });
    expect(r.missed).toBe(0);
  });
});
