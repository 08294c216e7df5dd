/**
 * Issue 12 finding 4 (events, progress rows and artifacts never pruned): a heartbeat adds at most
 * one epoch record and one progress event per epoch of the trial; the coordinator's retention
 * prunes the progress events and epoch records of sweeps finished longer ago than
 * --retention-days; `npf gc` deletes finished sweeps, the trials no sweep references, and the
 * checkpoint files no trial names. Against a real coordinator on 127.0.0.1:0 and its data dir.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskLease } from '../../gen/npf/v1/sweep.js';
import { collectGarbage } from '../../coordinator/gc.js';
import { DataDirLockedError, NotFoundError } from '../../coordinator/errors.js';
import { InvalidInputError } from '../../common/errors.js';
import { fixtureResult, fixtureTask, startHarness, submitFixtures, tempDir, uploadArtifact, type Harness } from '../coordinator/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const DAY = 24 * 3_600_000;
const NPF = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'bin', 'npf.js');

function record(epoch: number) {
  return { epoch, trainLoss: 0.5, testLoss: 0.4, testAccuracy: 0.8, examplesPerSec: 1000, durationMs: 100 };
}

function count(hh: Harness, sql: string, ...params: unknown[]): number {
  return (hh.c.core.store.db.db.prepare(sql).get(...params) as { n: number }).n;
}

const progressEvents = (hh: Harness, taskId: string) => count(hh, "SELECT COUNT(*) AS n FROM events WHERE task_id = ? AND type = 'task.progress'", taskId);
const progressRows = (hh: Harness, taskId: string) => count(hh, 'SELECT COUNT(*) AS n FROM progress WHERE task_id = ?', taskId);

async function beat(hh: Harness, workerId: string, l: TaskLease, epochs: number[]): Promise<void> {
  await hh.w('heartbeat', { workerId, draining: false, tasks: [{ taskId: l.taskId, fencingToken: l.fencingToken, epoch: Math.max(...epochs), epochsJson: JSON.stringify(epochs.map(record)) }] });
}

async function complete(hh: Harness, workerId: string, l: TaskLease, artifacts: Array<{ name: string; sha256: string; size: number; epoch: number }> = []): Promise<void> {
  await hh.w('completeTask', { workerId, taskId: l.taskId, fencingToken: l.fencingToken, resultJson: JSON.stringify(fixtureResult(0.9)), artifacts });
}

describe('retention of progress (bounded growth)', () => {
  it('a heartbeat records each epoch of the trial once: repeated epochs and epochs the trial does not have add nothing', async () => {
    h = await startHarness();
    const t = fixtureTask(); // 2 epochs
    await submitFixtures(h, [t]);
    const w = await h.register();
    const [l] = await h.lease(w, 1);
    await beat(h, w, l, [1]);
    await beat(h, w, l, [1, 2]); // epoch 1 again: a heartbeat repeated after a lost answer
    await beat(h, w, l, [2, 3, 1000, 1_000_000]); // not epochs of this trial
    expect(progressRows(h, t.taskId)).toBe(2);
    expect(progressEvents(h, t.taskId)).toBe(2);
  });

  it('retention prunes the progress events and epoch records of sweeps finished before it, never of a running sweep', async () => {
    h = await startHarness();
    const [done, open] = [fixtureTask({ seed: 1 }), fixtureTask({ seed: 2 })];
    const finished = await submitFixtures(h, [done]);
    await submitFixtures(h, [open]);
    const w = await h.register();
    const leases = await h.lease(w, 8);
    const of = (id: string) => leases.find((l) => l.taskId === id)!;
    await beat(h, w, of(done.taskId), [1, 2]);
    await beat(h, w, of(open.taskId), [1]);
    await complete(h, w, of(done.taskId));
    expect(h.c.core.getSweep(finished).state).toBe('complete');

    // A worker that registered and went away without a lease is pruned with the history.
    const gone = await h.register();
    // Not yet past the retention: nothing pruned.
    h.clock.advance(DAY / 2);
    expect(await h.c.core.prune(DAY)).toEqual({ sweeps: 0, events: 0, progressRows: 0, workers: 0 });
    expect(progressEvents(h, done.taskId)).toBe(2);

    h.clock.advance(DAY);
    await beat(h, w, of(open.taskId), [2]); // the running sweep is still busy
    expect(await h.c.core.prune(DAY)).toEqual({ sweeps: 1, events: 2, progressRows: 2, workers: 1 });
    expect(h.c.core.store.workers.byId(gone)).toBeUndefined();
    expect(h.c.core.store.workers.byId(w)).toBeDefined();
    expect(progressEvents(h, done.taskId)).toBe(0);
    expect(progressRows(h, done.taskId)).toBe(0);
    // The lifecycle events and the result stay; the running sweep keeps everything.
    expect(h.c.core.events(finished).map((e) => e.type)).toContain('task.succeeded');
    expect(h.c.core.outcomes(finished)[0].result?.bestTestAccuracy).toBe(0.9);
    expect(progressEvents(h, open.taskId)).toBe(2);
    expect(progressRows(h, open.taskId)).toBe(2);
    // Pruned once: the next check finds nothing.
    expect(await h.c.core.prune(DAY)).toEqual({ sweeps: 0, events: 0, progressRows: 0, workers: 0 });
  });
});

describe('npf gc', () => {
  it('deletes finished sweeps, the trials no sweep references and the checkpoint files no trial names; refuses a running sweep and a running coordinator', async () => {
    const dir = tempDir();
    h = await startHarness({}, dir);
    const [mine, shared, other] = [fixtureTask({ seed: 1 }), fixtureTask({ seed: 2 }), fixtureTask({ seed: 3 })];
    const old = await submitFixtures(h, [mine, shared]);
    const keep = await submitFixtures(h, [shared]);
    const running = await submitFixtures(h, [other]);
    const w = await h.register();
    const leases = await h.lease(w, 8);
    const of = (id: string) => leases.find((l) => l.taskId === id)!;
    const art = async (t: { taskId: string }, fill: number) => ({ name: 'best', epoch: 1, ...(await uploadArtifact(h!, of(t.taskId), 'best', Buffer.alloc(100, fill))) });
    const [a1, a2, a3] = [await art(mine, 1), await art(shared, 2), await art(other, 3)];
    await complete(h, w, of(mine.taskId), [a1]);
    await complete(h, w, of(shared.taskId), [a2]);
    const file = (sha: string) => path.join(dir, 'artifacts', sha);
    // A stray file of the content store that no record names (e.g. a dropped resume state).
    const stray = 'f'.repeat(64);
    fs.writeFileSync(file(stray), 'x'.repeat(10));

    // The coordinator holds the directory: gc refuses to run beside it.
    await expect(collectGarbage({ dataDir: dir, deleteSweeps: [old] })).rejects.toBeInstanceOf(DataDirLockedError);
    await h.c.stop();
    await expect(collectGarbage({ dataDir: dir, deleteSweeps: [running] })).rejects.toThrow(InvalidInputError);
    await expect(collectGarbage({ dataDir: dir, deleteSweeps: ['no-such-sweep'] })).rejects.toThrow(NotFoundError);
    fs.writeFileSync(path.join(dir, 'artifacts', 'tmp', 'partial-upload'), 'x');

    // A dry run says the same and changes nothing.
    const expected = { sweepsDeleted: [old], tasksDeleted: 1, filesRemoved: 2, bytesRemoved: 110, partialUploadsRemoved: 1 };
    expect(await collectGarbage({ dataDir: dir, deleteSweeps: [old], dryRun: true })).toMatchObject({ dryRun: true, ...expected });
    expect(fs.existsSync(file(a1.sha256)) && fs.existsSync(file(stray))).toBe(true);
    expect(fs.readdirSync(path.join(dir, 'artifacts', 'tmp'))).toEqual(['partial-upload']);

    const r = await collectGarbage({ dataDir: dir, deleteSweeps: [old] });
    expect(r).toMatchObject({ dryRun: false, ...expected });
    expect(fs.existsSync(file(a1.sha256))).toBe(false);
    expect(fs.existsSync(file(stray))).toBe(false);
    // The shared trial stays with the sweep that still names it, and so does its checkpoint.
    expect(fs.existsSync(file(a2.sha256))).toBe(true);
    expect(fs.existsSync(file(a3.sha256))).toBe(true);

    await h.restart();
    expect(() => h!.c.core.getSweep(old)).toThrow(NotFoundError);
    expect(h.c.core.outcomes(keep).map((o) => [o.taskId, o.status])).toEqual([[shared.taskId, 'succeeded']]);
    expect(h.c.core.artifactsOf(shared.taskId)).toEqual([expect.objectContaining({ sha256: a2.sha256 })]);
    expect(h.c.core.getSweep(running).state).toBe('running');
    expect(count(h, 'SELECT COUNT(*) AS n FROM tasks WHERE task_id = ?', mine.taskId)).toBe(0);
    expect(count(h, 'SELECT COUNT(*) AS n FROM events WHERE sweep_id = ?', old)).toBeLessThanOrEqual(1);

    // The command line: `npf gc` on the stopped directory deletes the other finished sweep.
    await h.c.core.cancelSweep(running);
    await h.c.stop();
    const cli = spawnSync(process.execPath, [NPF, 'gc', '--data-dir', dir, '--delete-sweep', keep, '--delete-sweep', running], { encoding: 'utf8' });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain('sweeps deleted: 2');
    expect(cli.stdout).toContain('trials deleted (no sweep references them): 2');
    expect(cli.stdout).toContain('checkpoint files removed: 2 (200 bytes)');
    expect(fs.readdirSync(path.join(dir, 'artifacts')).filter((f) => f !== 'tmp')).toEqual([]);
    await h.restart();
  });
});
