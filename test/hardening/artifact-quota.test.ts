/**
 * Issue 12 finding 4 (exhaustion): the artifacts of one sweep have a quota on the coordinator
 * (`--max-artifact-bytes-per-sweep`). An upload past it is refused at its header with
 * RESOURCE_EXHAUSTED naming the sweep and the quota; no temporary file stays behind; uploads in
 * flight count; a replaced artifact (a newer resume state) counts once; other sweeps are not held back.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { UploadArtifactRequest } from '../../gen/npf/v1/sweep.js';
import { bearer, fixtureTask, startHarness, submitFixtures, uploadArtifact, type Harness } from '../coordinator/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const QUOTA = 1000;

async function refused(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { code: err.code, details: err.details };
  }
  throw new Error('expected the call to be refused');
}

function tmpFiles(hh: Harness): string[] {
  return fs.readdirSync(path.join(hh.dir, 'artifacts', 'tmp'));
}

const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

describe('artifact quota per sweep', () => {
  it('an upload past the sweep quota is refused with RESOURCE_EXHAUSTED naming the sweep and the quota, and leaves no temp file', async () => {
    h = await startHarness({ maxArtifactBytesPerSweep: QUOTA });
    const [t1, t2] = [fixtureTask({ seed: 1 }), fixtureTask({ seed: 2 })];
    const sweepId = await submitFixtures(h, [t1, t2]);
    const other = await submitFixtures(h, [fixtureTask({ seed: 3 })]);
    const w = await h.register();
    const leases = await h.lease(w, 8);
    const of = (taskId: string) => leases.find((l) => l.taskId === taskId)!;

    await uploadArtifact(h, of(t1.taskId), 'best', bytes(600, 1));
    const e = await refused(uploadArtifact(h, of(t2.taskId), 'best', bytes(600, 2)));
    expect(e.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(e.details).toContain(`sweep ${sweepId} is over its artifact quota`);
    expect(e.details).toContain('would bring its artifacts to 1200 bytes, more than the quota of 1000 bytes');
    expect(tmpFiles(h)).toEqual([]);

    // Replacing an artifact of the same name counts instead of it: 700 bytes in place of 600.
    await uploadArtifact(h, of(t1.taskId), 'best', bytes(700, 3));
    // Up to the quota exactly is accepted.
    await uploadArtifact(h, of(t2.taskId), 'best', bytes(300, 4));
    expect(h.c.core.artifactsOf(t1.taskId).map((a) => a.size)).toEqual([700]);
    expect(h.c.core.artifactsOf(t2.taskId).map((a) => a.size)).toEqual([300]);
    expect((await refused(uploadArtifact(h, of(t2.taskId), 'extra', bytes(1, 5)))).code).toBe(grpc.status.RESOURCE_EXHAUSTED);

    // Another sweep has its own quota.
    const o = leases.find((l) => l.taskId !== t1.taskId && l.taskId !== t2.taskId)!;
    expect(o).toBeDefined();
    expect(h.c.core.sweepSource(other)).toBeDefined();
    await uploadArtifact(h, o, 'best', bytes(900, 6));
  });

  it('uploads in flight count against the quota: a second one is refused while the first still sends', async () => {
    h = await startHarness({ maxArtifactBytesPerSweep: QUOTA });
    const [t1, t2] = [fixtureTask({ seed: 1 }), fixtureTask({ seed: 2 })];
    await submitFixtures(h, [t1, t2]);
    const w = await h.register();
    const leases = await h.lease(w, 8);
    const of = (taskId: string) => leases.find((l) => l.taskId === taskId)!;

    // The first upload sends its header and half its bytes, then waits.
    const first = bytes(600, 7);
    const sha = crypto.createHash('sha256').update(first).digest('hex');
    let stream: grpc.ClientWritableStream<UploadArtifactRequest> | undefined;
    const done = new Promise<unknown>((resolve, reject) => {
      stream = h!.worker.uploadArtifact(bearer(h!.token), (err, res) => (err ? reject(err) : resolve(res)));
    });
    stream!.write({ header: { taskId: t1.taskId, fencingToken: of(t1.taskId).fencingToken, workerId: w, workerSecret: h.secretOf(w), ref: { name: 'best', sha256: sha, size: first.length, epoch: 1 } } });
    stream!.write({ chunk: first.subarray(0, 300) });
    // Wait until the coordinator has the first upload's header (its temp file exists).
    for (let i = 0; i < 200 && tmpFiles(h).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(tmpFiles(h)).toHaveLength(1);

    const e = await refused(uploadArtifact(h, of(t2.taskId), 'best', bytes(600, 8)));
    expect(e.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(e.details).toContain('more than the quota of 1000 bytes');

    stream!.write({ chunk: first.subarray(300) });
    stream!.end();
    await done;
    expect(tmpFiles(h)).toEqual([]);
    // The first upload is recorded; its reservation is released (400 more bytes fit).
    await uploadArtifact(h, of(t2.taskId), 'best', bytes(400, 9));
  });
});
