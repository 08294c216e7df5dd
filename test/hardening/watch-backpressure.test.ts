/**
 * Issue 12 finding 6: WatchSweep honours backpressure. A consumer that stops reading is closed
 * once it falls more than `watchBacklog` events behind, with RESOURCE_EXHAUSTED and a sentence
 * saying why, which reaches it even though it does not read; what the server holds for it
 * stays bounded by that backlog (reading again, it never gets the whole sweep), and the
 * coordinator keeps serving.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { WatchSweepResponse } from '../../gen/npf/v1/sweep.js';
import { bearer, fixtureTask, startHarness, submitFixtures, type Harness } from '../coordinator/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const BACKLOG = 50;
const EPOCHS = 10_000;

async function watchRefusals(hh: Harness): Promise<number> {
  const metric = await hh.c.registry.getSingleMetric('npf_grpc_requests_total')?.get();
  return metric?.values.find((v) => v.labels.method === 'WatchSweep' && v.labels.code === 'RESOURCE_EXHAUSTED')?.value ?? 0;
}

describe('WatchSweep backpressure', () => {
  it('a consumer that never reads is closed with RESOURCE_EXHAUSTED once it falls behind; the server holds a bounded backlog', async () => {
    h = await startHarness({ watchBacklog: BACKLOG });
    const t = fixtureTask();
    t.spec.epochs = EPOCHS;
    const sweepId = await submitFixtures(h, [t]);
    const w = await h.register();
    const [l] = await h.lease(w, 1);

    // Opened and never read: no 'data' listener, so the stream stays paused.
    const stream = h.sweep.watchSweep({ sweepId, fromStart: false }, bearer(h.token));
    const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    await new Promise((r) => setTimeout(r, 200));

    // 10 heartbeats of 1000 epoch records: 10,000 progress events, about 2 MB of messages.
    for (let b = 0; b < EPOCHS / 1000; b++) {
      const records = Array.from({ length: 1000 }, (_, i) => ({ epoch: b * 1000 + i + 1, trainLoss: 0.5, testLoss: 0.4, testAccuracy: 0.8, examplesPerSec: 1000, durationMs: 100 }));
      await h.w('heartbeat', { workerId: w, draining: false, tasks: [{ taskId: l.taskId, fencingToken: l.fencingToken, epoch: records.at(-1)!.epoch, epochsJson: JSON.stringify(records) }] });
    }
    for (let i = 0; i < 200 && (await watchRefusals(h)) === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await watchRefusals(h)).toBe(1);

    // Reading again: at most what was queued before the close (grpc-js may drop it), then the status.
    const received: WatchSweepResponse[] = [];
    stream.on('data', (m: WatchSweepResponse) => received.push(m));
    const err = await ended;
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.details).toBe(`watch closed: this client fell more than ${BACKLOG} events behind (read the stream faster, or watch again with from_start)`);
    expect(received.length).toBeLessThan(EPOCHS / 4);
    expect(received.every((m) => m.type === 'task.progress')).toBe(true);

    // The coordinator still serves, and a new watch from the start gets everything.
    expect(h.c.core.events(sweepId).filter((e) => e.type === 'task.progress')).toHaveLength(EPOCHS);
    const res = await fetch(`http://${h.c.httpAddress}/healthz`);
    expect(res.status).toBe(200);
  });
});
