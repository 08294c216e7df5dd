/**
 * Issue 12's finding 8 as regression tests against a real coordinator on 127.0.0.1:0 over gRPC:
 * a worker is its id AND the secret RegisterWorker issued to it, the worker token cannot
 * administer, and nothing a watcher sees (events, the store's file) holds a secret. Every
 * forgery is made the way the finding describes it: by another holder of the worker token who
 * reads the `task.leased` event (worker id, attempt) of the lease it wants to take over.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { CompleteTaskResponse, HeartbeatResponse, TaskLease, WatchSweepResponse } from '../../gen/npf/v1/sweep.js';
import { bearer, fixtureResult, fixtureTask, refused, startHarness, submitFixtures, unary, uploadArtifact, type Harness } from '../coordinator/harness.js';

const ADMIN = 'admin-token-0123456789';
const WORKER = 'worker-token-9876543210';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Two tokens (roles), one task, worker A holding its lease and worker B (same worker token) watching. */
async function setup(): Promise<{ h: Harness; sweepId: string; a: string; b: string; lease: TaskLease }> {
  const harness = await startHarness({ token: ADMIN, workerToken: WORKER });
  h = harness;
  const sweepId = await submitFixtures(harness, [fixtureTask({ seed: 1 })]);
  const a = await harness.register();
  const b = await harness.register();
  const [lease] = await harness.lease(a, 1);
  return { h: harness, sweepId, a, b, lease };
}

/** The `task.leased` payload a watcher sees: what an attacker knows about A's lease. */
function leasedEvent(h: Harness, sweepId: string): { workerId: string; attempt: number } {
  const e = h.c.core.events(sweepId).find((x) => x.type === 'task.leased');
  if (!e) throw new Error('no task.leased event');
  return e.payload as { workerId: string; attempt: number };
}

function result(acc: number): string {
  return JSON.stringify(fixtureResult(acc));
}

describe('identity and roles (issue 12, finding 8)', () => {
  it('a completion forged by another worker-token holder is refused, and the real worker result is the one kept', async () => {
    const { h, sweepId, a, b, lease } = await setup();
    const seen = leasedEvent(h, sweepId);
    expect(seen).toMatchObject({ workerId: a, attempt: lease.fencingToken });
    // B names A (from the event) but has only its own secret.
    const asA = await refused(
      h.w('completeTask', { workerId: seen.workerId, workerSecret: h.secretOf(b), taskId: lease.taskId, fencingToken: seen.attempt, resultJson: result(0.11), artifacts: [], leaseNext: 1 }),
    );
    expect(asA.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(asA.details).toMatch(/worker_secret is not the one issued to worker/);
    // No secret at all (what a client built before secrets sends).
    const none = await refused(h.w('completeTask', { workerId: a, workerSecret: '', taskId: lease.taskId, fencingToken: seen.attempt, resultJson: result(0.11), artifacts: [] }));
    expect(none.code).toBe(grpc.status.PERMISSION_DENIED);
    // B as itself: it does not hold the lease.
    const asB = await refused(h.w('completeTask', { workerId: b, taskId: lease.taskId, fencingToken: seen.attempt, resultJson: result(0.11), artifacts: [], leaseNext: 1 }));
    expect(asB.code).toBe(grpc.status.FAILED_PRECONDITION);
    // The same forgery inside a batch refuses the whole call.
    const batch = await refused(
      h.w('completeTasks', { items: [{ workerId: a, workerSecret: h.secretOf(b), taskId: lease.taskId, fencingToken: seen.attempt, resultJson: result(0.11), artifacts: [], leaseNext: 0 }], leaseNext: 1 }),
    );
    expect(batch.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(h.c.core.store.results.byTask(lease.taskId)).toBeUndefined();

    // The real worker's report is accepted and kept.
    await h.w('completeTask', { workerId: a, taskId: lease.taskId, fencingToken: lease.fencingToken, resultJson: result(0.97), artifacts: [] });
    expect(JSON.parse(h.c.core.store.results.byTask(lease.taskId)!.result_json).bestTestAccuracy).toBe(0.97);

    // After it: a duplicate from a non-holder is refused (not OK) and leases nothing.
    await submitFixtures(h, [fixtureTask({ seed: 2 })]);
    const dup = await refused(h.w('completeTask', { workerId: b, taskId: lease.taskId, fencingToken: lease.fencingToken, resultJson: result(0.97), artifacts: [], leaseNext: 1 }));
    expect(dup.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(dup.details).toMatch(new RegExp(`was completed by worker ${a}, not ${b}`));
    const dupBatch = await h.w<{ outcomes: Array<{ ok: boolean; code: number }>; nextLeases: TaskLease[] }>('completeTasks', {
      items: [{ workerId: b, taskId: lease.taskId, fencingToken: lease.fencingToken, resultJson: result(0.97), artifacts: [], leaseNext: 0 }],
      leaseNext: 1,
    });
    expect(dupBatch.outcomes).toEqual([expect.objectContaining({ ok: false, code: grpc.status.FAILED_PRECONDITION })]);
    expect(dupBatch.nextLeases).toEqual([]);
    // A conflicting result from the holder itself is refused too; its exact retry is still OK.
    const conflict = await refused(h.w('completeTask', { workerId: a, taskId: lease.taskId, fencingToken: lease.fencingToken, resultJson: result(0.5), artifacts: [] }));
    expect(conflict.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(conflict.details).toMatch(/already has a different result recorded/);
    const retry = await h.w<CompleteTaskResponse>('completeTask', { workerId: a, taskId: lease.taskId, fencingToken: lease.fencingToken, resultJson: result(0.97), artifacts: [], leaseNext: 1 });
    expect(retry.nextLeases).toHaveLength(1);
    expect(JSON.parse(h.c.core.store.results.byTask(lease.taskId)!.result_json).bestTestAccuracy).toBe(0.97);
    // The task still has exactly one attempt, A's.
    expect(h.c.core.store.attempts.ofTask(lease.taskId)).toEqual([expect.objectContaining({ attempt: lease.fencingToken, worker_id: a, outcome: 'succeeded' })]);
  });

  it('heartbeats from a non-holder do not keep a dead worker lease alive', async () => {
    const { h, sweepId, a, b, lease } = await setup();
    const seen = leasedEvent(h, sweepId);
    const progress = [{ taskId: lease.taskId, fencingToken: seen.attempt, epoch: 1, epochsJson: '' }];
    // A dies. B heartbeats A's lease every few seconds, as A and as itself.
    for (let i = 0; i < 4; i++) {
      h.clock.advance(3_000);
      const asA = await refused(h.w('heartbeat', { workerId: a, workerSecret: h.secretOf(b), tasks: progress, draining: false }));
      expect(asA.code).toBe(grpc.status.PERMISSION_DENIED);
      const asB = await h.w<HeartbeatResponse>('heartbeat', { workerId: b, tasks: progress, draining: false });
      expect(asB.cancelTaskIds).toEqual([lease.taskId]); // not B's: told to stop, not renewed
    }
    // 12 s after the grant, past the 10 s TTL: the lease expires and the task is retried.
    expect(await h.c.core.expireLeases()).toBe(1);
    const row = h.c.core.store.tasks.byId(lease.taskId)!;
    expect(row.state).toBe('pending');
    expect(h.c.core.store.attempts.ofTask(lease.taskId)).toEqual([expect.objectContaining({ worker_id: a, outcome: 'expired' })]);
  });

  it('marking another worker draining is refused; the worker keeps leasing', async () => {
    const { h, a, b } = await setup();
    await submitFixtures(h, [fixtureTask({ seed: 3 })]);
    const e = await refused(h.w('heartbeat', { workerId: a, workerSecret: h.secretOf(b), tasks: [], draining: true }));
    expect(e.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(h.c.core.store.workers.byId(a)!.draining).toBe(0);
    // Leasing in A's name is refused too (it would hand A's slots to B).
    expect((await refused(h.w('leaseTasks', { workerId: a, workerSecret: h.secretOf(b), maxTasks: 1, waitMs: 0 }))).code).toBe(grpc.status.PERMISSION_DENIED);
    expect(await h.lease(a, 1)).toHaveLength(1);
  });

  it("replacing another attempt's artifact record is refused, so a dependant's gates stay the holder's", async () => {
    const { h, sweepId, a, b, lease } = await setup();
    const real = await uploadArtifact(h, lease, 'best', Buffer.from('the real checkpoint'));
    const seen = leasedEvent(h, sweepId);
    const poison = Buffer.from('poisoned gates');
    const asA = await refused(uploadArtifact(h, { taskId: lease.taskId, fencingToken: seen.attempt }, 'best', poison, { workerId: a, workerSecret: h.secretOf(b) }));
    expect(asA.code).toBe(grpc.status.PERMISSION_DENIED);
    const asB = await refused(uploadArtifact(h, { taskId: lease.taskId, fencingToken: seen.attempt }, 'best', poison, { workerId: b }));
    expect(asB.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(asB.details).toMatch(new RegExp(`leased to ${a}, not ${b}`));
    expect(h.c.core.store.artifacts.get(lease.taskId, 'best')).toMatchObject({ sha256: real.sha256, attempt: lease.fencingToken });
    // A failure forged in A's name is refused as well: the task stays leased to A.
    const fail = await refused(h.w('failTask', { workerId: a, workerSecret: h.secretOf(b), taskId: lease.taskId, fencingToken: seen.attempt, error: 'x', retryable: false, interrupted: false }));
    expect(fail.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(h.c.core.store.tasks.byId(lease.taskId)!.state).toBe('leased');
  });

  it('the worker token cannot submit, cancel or read sweeps; the administration token cannot act as a worker', async () => {
    const { h, sweepId } = await setup();
    const cancel = await refused(unary(h.sweep, 'cancelSweep', { sweepId, taskIds: [] }, bearer(WORKER)));
    expect(cancel.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(cancel.details).toMatch(/worker token/);
    expect(h.c.core.getSweep(sweepId).state).toBe('running');
    for (const [method, req] of [
      ['submitSweep', { specYaml: 'name: x\n', fileName: 'x.yaml', overrides: [] }],
      ['getResults', { sweepId, format: 'csv' }],
      ['listSweeps', {}],
    ] as const) {
      expect((await refused(unary(h.sweep, method, req, bearer(WORKER)))).code, method).toBe(grpc.status.PERMISSION_DENIED);
    }
    const watch = await new Promise<number>((resolve) => {
      const s = h.sweep.watchSweep({ sweepId, fromStart: true }, bearer(WORKER));
      s.on('data', () => resolve(-1));
      s.on('error', (e: grpc.ServiceError) => resolve(e.code));
    });
    expect(watch).toBe(grpc.status.PERMISSION_DENIED);
    const reg = await refused(unary(h.worker, 'registerWorker', { hostname: 'x', resources: { cpu: 1, gpu: 0, memoryMb: 100 }, backends: [], version: '' }, bearer(ADMIN)));
    expect(reg.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(reg.details).toMatch(/administration token/);
    // The administration token still administers.
    const done = await unary<{ cancelledTasks: number }>(h.sweep, 'cancelSweep', { sweepId, taskIds: [] }, bearer(ADMIN));
    expect(done.cancelledTasks).toBe(1);
  });

  it('one token grants both roles (as before); a worker token needs an administration token and must differ from it', async () => {
    h = await startHarness();
    const w = await h.register();
    expect(w).toBeTruthy();
    expect(await unary<{ sweeps: unknown[] }>(h.sweep, 'listSweeps', {}, bearer(h.token))).toEqual({ sweeps: [] });
    await expect(startHarness({ token: undefined, workerToken: WORKER })).rejects.toThrow(/workerToken: needs an administration token/);
    await expect(startHarness({ token: ADMIN, workerToken: ADMIN })).rejects.toThrow(/must differ/);
  });

  it('a worker registered before secrets existed is asked to register again (NOT_FOUND WORKER_NOT_FOUND), and its secret-less calls are refused', async () => {
    h = await startHarness();
    const old = await h.register();
    // As a database migrated from before worker secrets holds it (migration 6 adds a NULL column).
    h.c.core.store.db.run('UPDATE workers SET secret_sha256 = NULL WHERE worker_id = ?', old);
    await h.restart();
    const e = await h.w<never>('leaseTasks', { workerId: old, workerSecret: '', maxTasks: 1, waitMs: 0 }).catch((err: grpc.ServiceError) => err);
    expect(e.code).toBe(grpc.status.NOT_FOUND);
    expect(e.metadata.get('npf-error-code')[0]).toBe('WORKER_NOT_FOUND');
    expect(e.details).toMatch(/registered before worker secrets: register again/);
    const again = await h.register();
    expect(await h.lease(again, 1)).toEqual([]);
  });

  it('no event, watch message or stored byte holds a worker secret or a token', async () => {
    const { h, sweepId, a, b, lease } = await setup();
    await h.w('heartbeat', { workerId: a, tasks: [{ taskId: lease.taskId, fencingToken: lease.fencingToken, epoch: 1, epochsJson: '' }], draining: false });
    await h.w('completeTask', { workerId: a, taskId: lease.taskId, fencingToken: lease.fencingToken, resultJson: result(0.9), artifacts: [] });
    const secrets = [h.secretOf(a), h.secretOf(b), ADMIN, WORKER];
    for (const s of secrets) expect(s.length).toBeGreaterThanOrEqual(20);
    // 128-bit secrets, one per registration.
    expect(h.secretOf(a)).toMatch(/^[0-9a-f]{32}$/);
    expect(h.secretOf(a)).not.toBe(h.secretOf(b));
    const watched = await new Promise<WatchSweepResponse[]>((resolve, reject) => {
      const got: WatchSweepResponse[] = [];
      const s = h.sweep.watchSweep({ sweepId, fromStart: true }, bearer(ADMIN));
      s.on('data', (m: WatchSweepResponse) => got.push(m));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    const leased = watched.filter((m) => m.type === 'task.leased');
    expect(leased).toHaveLength(1);
    // A leased event says who holds the lease and which attempt, nothing that proves it.
    expect(Object.keys(JSON.parse(leased[0].payloadJson)).sort()).toEqual(['attempt', 'workerId']);
    const text = JSON.stringify(watched) + JSON.stringify(h.c.core.events(sweepId));
    // The database and its write-ahead log as on disk (every write is committed before its answer).
    const stored = fs
      .readdirSync(h.dir)
      .filter((f) => f.startsWith('npf.db'))
      .map((f) => fs.readFileSync(path.join(h.dir, f)).toString('latin1'))
      .join('');
    expect(stored.length).toBeGreaterThan(0);
    for (const s of secrets) {
      expect(text).not.toContain(s);
      expect(stored).not.toContain(s);
    }
  });
});
