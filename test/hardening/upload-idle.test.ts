/**
 * Issue 12 finding 5: an upload that sends its header and some bytes, then nothing, is ended by
 * the coordinator after the idle deadline (RESOURCE_EXHAUSTED): its temporary file is removed,
 * its file handle given back, and nothing is recorded.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { UploadArtifactRequest } from '../../gen/npf/v1/sweep.js';
import { bearer, fixtureTask, startHarness, submitFixtures, type Harness } from '../coordinator/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('upload idle deadline', () => {
  it('an upload idle after its header and first bytes is ended with RESOURCE_EXHAUSTED and its temp file removed', async () => {
    h = await startHarness({ uploadIdleMs: 400 });
    const t = fixtureTask();
    await submitFixtures(h, [t]);
    const w = await h.register();
    const [l] = await h.lease(w, 1);
    const tmp = path.join(h.dir, 'artifacts', 'tmp');
    const bytes = Buffer.alloc(1000, 1);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');

    let call: grpc.ClientWritableStream<UploadArtifactRequest> | undefined;
    const answer = new Promise<grpc.ServiceError>((resolve, reject) => {
      call = h!.worker.uploadArtifact(bearer(h!.token), (err) => (err ? resolve(err) : reject(new Error('the idle upload was accepted'))));
    });
    call!.write({ header: { taskId: t.taskId, fencingToken: l.fencingToken, workerId: w, workerSecret: h.secretOf(w), ref: { name: 'best', sha256, size: bytes.length, epoch: 1 } } });
    call!.write({ chunk: bytes.subarray(0, 100) });
    // The coordinator holds a temp file while the upload is open...
    for (let i = 0; i < 200 && fs.readdirSync(tmp).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(fs.readdirSync(tmp)).toHaveLength(1);
    // ... and the client now sends nothing (never ends the stream).
    const err = await answer;
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.details).toBe('artifact upload idle for 400 ms: ended, nothing stored (send the chunks without pausing)');
    expect(fs.readdirSync(tmp)).toEqual([]);
    expect(h.c.core.artifactsOf(t.taskId)).toEqual([]);
    expect(fs.existsSync(path.join(h.dir, 'artifacts', sha256))).toBe(false);
    call!.cancel();
  });
});
