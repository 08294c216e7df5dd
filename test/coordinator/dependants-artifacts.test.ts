import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadArtifact, fixtureResult, fixtureTask, refused, startHarness, submitFixtures, uploadArtifact, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function family(checkpoint = 'best') {
  const parent = fixtureTask({ seed: 3, priority: 100 });
  const child = fixtureTask({ seed: 3, regime: 'flnpf', parent: { taskId: parent.taskId, checkpoint } });
  const grandchild = fixtureTask({ seed: 4, regime: 'flnpf', parent: { taskId: child.taskId, checkpoint: 'best' } });
  return { parent, child, grandchild };
}

describe('coordinator dependants and artifacts', () => {
  it('artifacts - a dependant unblocks when its parent succeeds with the checkpoint, and downloads it verified', async () => {
    h = await startHarness();
    const { parent, child } = family('best@10');
    const sweepId = await submitFixtures(h, [parent, child]);
    expect(h.c.core.taskState(child.taskId).state).toBe('blocked');
    const wid = await h.register();
    const [lp] = await h.lease(wid);
    expect(lp.taskId).toBe(parent.taskId);
    expect(lp.gatesFrom).toBeUndefined();
    // 200 KiB: more than three download chunks of 64 KiB.
    const bytes = crypto.randomBytes(200 * 1024);
    const sha = crypto.createHash('sha256').update(bytes).digest('hex');
    expect(await uploadArtifact(h, lp, 'best@10', bytes)).toEqual({ sha256: sha, size: bytes.length });
    expect(h.c.core.taskState(child.taskId).state).toBe('blocked');
    await h.w('completeTask', {
      workerId: wid,
      taskId: parent.taskId,
      fencingToken: lp.fencingToken,
      resultJson: JSON.stringify(fixtureResult(0.97)),
      artifacts: [{ name: 'best@10', sha256: sha, size: bytes.length, epoch: 10 }],
    });
    expect(h.c.core.taskState(child.taskId).state).toBe('pending');
    const other = await h.register();
    const [lc] = await h.lease(other);
    expect(lc.taskId).toBe(child.taskId);
    expect(lc.gatesFrom).toEqual({ name: 'best@10', sha256: sha, size: bytes.length, epoch: 1 });
    expect(JSON.parse(lc.specJson).gatesFrom).toBeUndefined();
    const dl = await downloadArtifact(h, lc.gatesFrom!.sha256);
    expect(dl.size).toBe(bytes.length);
    expect(dl.chunks).toBe(4);
    expect(crypto.createHash('sha256').update(dl.bytes).digest('hex')).toBe(sha);
    expect(fs.existsSync(path.join(h.dir, 'artifacts', sha))).toBe(true);
    await h.w('completeTask', { workerId: other, taskId: child.taskId, fencingToken: 1, resultJson: JSON.stringify(fixtureResult(0.95)), artifacts: [] });
    expect(h.c.core.getSweep(sweepId).state).toBe('complete');
  });

  it('artifacts - when the parent fails for good, dependants (and theirs) fail with the reason', async () => {
    h = await startHarness();
    const { parent, child, grandchild } = family();
    const sweepId = await submitFixtures(h, [parent, child, grandchild]);
    const wid = await h.register();
    const [lp] = await h.lease(wid);
    await h.w('failTask', { workerId: wid, taskId: lp.taskId, fencingToken: 1, error: 'bad spec: depth 0', retryable: false });
    expect(h.c.core.taskState(child.taskId)).toMatchObject({ state: 'failed', error: `parent ${parent.taskId} failed: bad spec: depth 0` });
    expect(h.c.core.taskState(grandchild.taskId).error).toBe(`parent ${child.taskId} failed: parent ${parent.taskId} failed: bad spec: depth 0`);
    expect(h.c.core.getSweep(sweepId)).toMatchObject({ state: 'failed' });
    expect(await h.lease(wid)).toEqual([]);
  });

  it('artifacts - a parent that succeeds without the needed checkpoint fails its dependant clearly', async () => {
    h = await startHarness();
    const { parent, child } = family('best');
    await submitFixtures(h, [parent, child]);
    const wid = await h.register();
    const [lp] = await h.lease(wid);
    await h.w('completeTask', { workerId: wid, taskId: lp.taskId, fencingToken: 1, resultJson: JSON.stringify(fixtureResult()), artifacts: [] });
    expect(h.c.core.taskState(child.taskId)).toMatchObject({
      state: 'failed',
      error: `parent ${parent.taskId} succeeded but produced no checkpoint 'best'`,
    });
  });

  it('artifacts - an upload whose bytes do not match the header is refused and nothing is kept', async () => {
    h = await startHarness();
    const t = fixtureTask();
    await submitFixtures(h, [t]);
    const wid = await h.register();
    const [l] = await h.lease(wid);
    const bytes = crypto.randomBytes(5000);
    const wrongSha = crypto.createHash('sha256').update('something else').digest('hex');
    const e1 = await refused(uploadArtifact(h, l, 'best', bytes, { sha256: wrongSha }));
    expect(e1.code).toBe(status.INVALID_ARGUMENT);
    expect(e1.details).toMatch(new RegExp(`^artifact 'best' of task ${t.taskId}: sha256 mismatch: the header says ${wrongSha} but the 5000 bytes received hash to [0-9a-f]{64}; nothing was stored$`));
    const e2 = await refused(uploadArtifact(h, l, 'best', bytes, { size: 4000 }));
    expect(e2.code).toBe(status.INVALID_ARGUMENT);
    expect(e2.details).toContain('received more than the 4000 bytes its header declares');
    const e3 = await refused(uploadArtifact(h, l, 'best', bytes, { size: 6000 }));
    expect(e3.details).toContain('size mismatch: the header says 6000 bytes but 5000 arrived');
    const e4 = await refused(uploadArtifact(h, l, 'best', bytes, { sha256: 'xyz' }));
    expect(e4).toMatchObject({ code: status.INVALID_ARGUMENT, details: `artifact 'best' of task ${t.taskId}: sha256 'xyz' is not 64 lowercase hex digits` });
    const files = fs.readdirSync(path.join(h.dir, 'artifacts'));
    expect(files).toEqual(['tmp']);
    expect(fs.readdirSync(path.join(h.dir, 'artifacts', 'tmp'))).toEqual([]);
    // CompleteTask naming an artifact that was never stored is refused.
    const e5 = await refused(h
      .w('completeTask', { workerId: wid, taskId: t.taskId, fencingToken: 1, resultJson: JSON.stringify(fixtureResult()), artifacts: [{ name: 'best', sha256: wrongSha, size: 1, epoch: 1 }] })
      );
    expect(e5.code).toBe(status.INVALID_ARGUMENT);
    expect(e5.details).toContain(`artifact 'best' (sha256 ${wrongSha}) was not uploaded by attempt 1`);
    // Download of an unknown hash.
    const e6 = await refused(downloadArtifact(h, wrongSha));
    expect(e6).toEqual({ code: status.NOT_FOUND, details: `unknown artifact '${wrongSha}'` });
  });

  it('artifacts - an upload on a stale fencing token is refused', async () => {
    h = await startHarness();
    const t = fixtureTask();
    await submitFixtures(h, [t]);
    const wid = await h.register();
    const [l] = await h.lease(wid);
    h.clock.advance(10_000);
    await h.c.core.expireLeases();
    h.clock.advance(1_000);
    await h.lease(wid);
    const e = await refused(uploadArtifact(h, l, 'best', Buffer.from('abc')));
    expect(e).toEqual({ code: status.FAILED_PRECONDITION, details: `stale fencing token 1 for task ${t.taskId} (current attempt 2)` });
  });

  it('artifacts - an artifact over the coordinator\'s size limit is RESOURCE_EXHAUSTED', async () => {
    h = await startHarness({ maxArtifactBytes: 1000 });
    const t = fixtureTask();
    await submitFixtures(h, [t]);
    const wid = await h.register();
    const [l] = await h.lease(wid);
    const e = await refused(uploadArtifact(h, l, 'best', crypto.randomBytes(5000)));
    expect(e).toEqual({
      code: status.RESOURCE_EXHAUSTED,
      details: `artifact 'best' of task ${t.taskId} is 5000 bytes, over the coordinator's limit of 1000`,
    });
  });
});
