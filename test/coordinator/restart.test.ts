import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Db } from '../../coordinator/store/db.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../coordinator/store/migrations.js';
import { downloadArtifact, fixtureResult, fixtureTask, startHarness, submitFixtures, tempDir, uploadArtifact, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('coordinator restart', () => {
  it('restart - state, results, artifacts and events survive; leases that expired meanwhile are requeued counting the attempt', async () => {
    h = await startHarness({ leaseTtlMs: 10_000 });
    const tasks = [0, 1, 2, 3].map((seed) => fixtureTask({ seed }));
    const sweepId = await submitFixtures(h, tasks);
    const wid = await h.register({ cpu: 3, gpu: 0, memoryMb: 16_000 });
    const leases = await h.lease(wid, 3);
    expect(leases.length).toBe(3);
    const [done, stuck, fresh] = leases;
    const bytes = crypto.randomBytes(1000);
    const art = await uploadArtifact(h, done, 'best', bytes);
    await h.w('completeTask', {
      workerId: wid,
      taskId: done.taskId,
      fencingToken: 1,
      resultJson: JSON.stringify(fixtureResult(0.93)),
      artifacts: [{ name: 'best', sha256: art.sha256, size: art.size, epoch: 1 }],
    });
    const eventsBefore = h.c.core.events(sweepId);

    // The worker heartbeats (renewing the lease it reports) just before a quick restart: leases kept.
    h.clock.advance(6_000);
    await h.w('heartbeat', { workerId: wid, tasks: [{ taskId: fresh.taskId, fencingToken: 1, epoch: 0, epochsJson: '' }], draining: false });
    await h.restart();
    expect(h.c.core.taskState(stuck.taskId).state).toBe('leased');
    expect(h.c.core.taskState(fresh.taskId).state).toBe('running');

    // Down for longer than the TTL: both leases expired while nobody could heartbeat.
    h.clock.advance(20_000);
    await h.restart();
    expect(h.c.core.result(done.taskId)?.bestTestAccuracy).toBe(0.93);
    expect(h.c.core.taskState(done.taskId)).toMatchObject({ state: 'succeeded', attempt: 1 });
    for (const l of [stuck, fresh]) expect(h.c.core.taskState(l.taskId)).toMatchObject({ state: 'pending', attempt: 1, tries: 1 });
    const untouched = tasks.find((t) => !leases.some((l) => l.taskId === t.taskId))!;
    expect(h.c.core.taskState(untouched.taskId)).toMatchObject({ state: 'pending', attempt: 0 });
    expect(h.c.core.events(sweepId).slice(0, eventsBefore.length)).toEqual(eventsBefore);
    expect(h.c.core.events(sweepId).filter((e) => e.type === 'task.retried').length).toBe(2);
    expect(h.c.core.artifactsOf(done.taskId)).toEqual([{ name: 'best', sha256: art.sha256, size: 1000, epoch: 1 }]);
    expect((await downloadArtifact(h, art.sha256)).bytes.equals(bytes)).toBe(true);
    expect(h.c.core.getSweep(sweepId)).toMatchObject({ state: 'running', counts: { succeeded: 1, pending: 3 } });

    // The old worker id still works after the restart; the requeued tasks run as attempt 2.
    h.clock.advance(1_000);
    const again = await h.lease(wid, 3);
    expect(again.filter((l) => l.fencingToken === 2).map((l) => l.taskId).sort()).toEqual([stuck.taskId, fresh.taskId].sort());
    for (const l of again) {
      await h.w('completeTask', { workerId: wid, taskId: l.taskId, fencingToken: l.fencingToken, resultJson: JSON.stringify(fixtureResult()), artifacts: [] });
    }
    expect(h.c.core.getSweep(sweepId).state).toBe('complete');
  });

  it('restart - events stored by a version-1 database are read back as the typed events, progress with its epoch count', async () => {
    const dir = tempDir();
    const db = new Database(path.join(dir, 'npf.db'));
    db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version (version) VALUES (1);');
    db.exec(MIGRATIONS.find((m) => m.version === 1)!.sql);
    db.prepare("INSERT INTO sweeps (sweep_id, name, file_name, spec_yaml, overrides_json, state, created_at_ms, cells_total) VALUES ('sw-old', 'old', 'f.yaml', '', '[]', 'cancelled', 1, 1)").run();
    db.prepare("INSERT INTO task_docs (task_id, key_json, spec_json) VALUES ('t1', '{}', '{\"epochs\":80}')").run();
    const old: Array<[string, string, object]> = [
      ['', 'sweep_submitted', { name: 'old', tasks: 1, cells: 1, alreadyDone: 0 }],
      ['t1', 'leased', { workerId: 'w', attempt: 1, gpuIndex: -1 }],
      ['t1', 'leased', { workerId: 'w', attempt: 2, gpuIndex: 1 }],
      ['t1', 'progress', { attempt: 1, epoch: 3, testAccuracy: 0.5, trainLoss: null }],
      ['t1', 'retried', { attempt: 1, error: 'lease expired: worker w sent no heartbeat within 30000 ms', backoffMs: 1000, notBeforeMs: 9 }],
      ['t1', 'succeeded', { attempt: 2, workerId: 'w', status: 'diverged', bestTestAccuracy: 0.9, bestEpoch: 1 }],
      ['t1', 'failed', { attempt: 3, error: 'boom' }],
      ['t1', 'cancelled', { attempt: 3 }],
      ['', 'sweep_complete', { state: 'failed', counts: { succeeded: 3, failed: 1 } }],
      ['', 'sweep_complete', { state: 'cancelled', counts: { cancelled: 2 } }],
    ];
    const insert = db.prepare("INSERT INTO events (time_ms, sweep_id, task_id, type, payload_json) VALUES (5, 'sw-old', ?, ?, ?)");
    for (const [taskId, type, payload] of old) insert.run(taskId, type, JSON.stringify(payload));
    db.close();
    // Retention off: these events are older than any retention, and this test reads them all back.
    h = await startHarness({ retentionDays: 0 }, dir);
    expect(h.c.core.events('sw-old').map(({ type, taskId, payload }) => ({ type, taskId, payload }))).toEqual([
      { type: 'sweep.submitted', payload: { name: 'old', tasks: 1, cells: 1, alreadyDone: 0 } },
      { type: 'task.leased', taskId: 't1', payload: { workerId: 'w', attempt: 1 } },
      { type: 'task.leased', taskId: 't1', payload: { workerId: 'w', attempt: 2, gpuIndex: 1 } },
      { type: 'task.progress', taskId: 't1', payload: { attempt: 1, epoch: 3, epochs: 80, testAccuracy: 0.5 } },
      {
        type: 'task.retried',
        taskId: 't1',
        payload: { attempt: 1, nextAttempt: 2, reason: 'lease expired', message: 'lease expired: worker w sent no heartbeat within 30000 ms', backoffMs: 1000 },
      },
      { type: 'task.succeeded', taskId: 't1', payload: { attempt: 2, workerId: 'w', bestTestAccuracy: 0.9, bestEpoch: 1, diverged: true } },
      { type: 'task.failed', taskId: 't1', payload: { attempt: 3, reason: 'failed', message: 'boom' } },
      { type: 'task.cancelled', taskId: 't1', payload: { reason: 'sweep cancelled' } },
      { type: 'sweep.complete', payload: { succeeded: 3, failed: 1, cancelled: 0 } },
      { type: 'sweep.cancelled', payload: { reason: 'cancelled on request', succeeded: 0, failed: 0, cancelled: 2 } },
    ]);
  });

  it('restart - the schema is versioned; a database from a newer coordinator is refused', () => {
    const dir = tempDir();
    try {
      const s = new Db(dir);
      expect(s.schemaVersion()).toBe(SCHEMA_VERSION);
      s.close();
      // Reopening applies nothing twice.
      const again = new Db(dir);
      expect(again.schemaVersion()).toBe(SCHEMA_VERSION);
      again.close();
      const db = new Database(path.join(dir, 'npf.db'));
      db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
      db.close();
      expect(() => new Db(dir)).toThrow(`has schema version ${SCHEMA_VERSION + 1}, newer than this coordinator's ${SCHEMA_VERSION}: upgrade npf-sweep`);
      expect(fs.existsSync(path.join(dir, 'npf.db'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
