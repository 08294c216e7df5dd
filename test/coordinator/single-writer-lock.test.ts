/**
 * One writer per data directory (coordinator/single-writer-lock.ts), with real processes: a
 * running `npf coordinator` holds the lock; a second `npf coordinator`, `npf run` and an
 * in-process startCoordinator on the same --data-dir refuse to start with DataDirLockedError;
 * the lock goes with its holder however it dies (SIGKILL) and on a clean stop.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError } from '../../coordinator/errors.js';
import { startCoordinator } from '../../coordinator/main.js';
import { acquireSingleWriterLock, HOLDER_FILE, LOCK_FILE } from '../../coordinator/single-writer-lock.js';
import { E2E, ROOT, waitFor, type Proc } from '../e2e/harness.js';

const SQLITE_MODULE = createRequire(import.meta.url).resolve('better-sqlite3');

let env: E2E | undefined;
afterEach(async () => {
  await env?.killAll();
  env = undefined;
});

const quiet = { log: () => undefined, httpListen: null, grpcListen: '127.0.0.1:0' } as const;

/** `npf coordinator` on `dataDir`, resolved once it serves. */
async function coordinatorProcess(e: E2E, name: string, dataDir: string): Promise<Proc> {
  const p = e.npf(name, ['coordinator', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--http', 'off'], { NPF_TOKEN: 't' });
  await waitFor(() => /npf coordinator: gRPC/.test(p.out), `${name} to serve`, 30_000, [p]);
  return p;
}

/** A node process that opens the lock database the way `setup` says and holds it until killed. */
function holdWith(e: E2E, name: string, file: string, setup: string): Proc {
  const script = e.write(`${name}.cjs`, `
const Database = require(${JSON.stringify(SQLITE_MODULE)});
const db = new Database(${JSON.stringify(file)});
${setup}
process.stdout.write('holding\\n');
setInterval(() => {}, 1000);
`);
  return e.spawnNode(name, [script]);
}

describe('coordinator - single-writer lock', () => {
  it('coordinator - a second coordinator, npf run and an in-process start on a held data dir refuse with a clear error', async () => {
    env = new E2E('lock');
    const dataDir = env.path('data');
    const first = await coordinatorProcess(env, 'coordinator-1', dataDir);

    const second = env.npf('coordinator-2', ['coordinator', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--http', 'off'], { NPF_TOKEN: 't' });
    const exit = await second.exited;
    expect(exit.code).toBe(2);
    expect(second.err).toContain(`npf coordinator: another coordinator is using the data directory ${dataDir} (held by pid ${first.pid} on `);
    expect(second.err).toContain('only one process may write it');
    expect(second.err).not.toMatch(/\n\s+at /); // one sentence, no stack

    const run = env.npf('npf-run', ['run', join(ROOT, 'sweeps/quick.yaml'), '--data-dir', dataDir, '--plain']);
    expect((await run.exited).code).toBe(2);
    expect(run.err).toContain(`another coordinator is using the data directory ${dataDir}`);

    await expect(startCoordinator({ ...quiet, dataDir })).rejects.toBeInstanceOf(DataDirLockedError);
    expect(first.child.exitCode).toBeNull(); // the holder is untouched

    // SIGKILL: the kernel drops the lock with the process; nothing stale is left to clean up.
    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    const c = await startCoordinator({ ...quiet, dataDir });
    try {
      await expect(startCoordinator({ ...quiet, dataDir })).rejects.toThrow(`held by pid ${process.pid}`);
    } finally {
      await c.stop();
    }
    // c.stop() released it: a coordinator process takes it, and holds it until it ends.
    const again = await coordinatorProcess(env, 'coordinator-3', dataDir);
    expect(() => acquireSingleWriterLock(dataDir)).toThrow(`held by pid ${again.pid}`);
    process.kill(again.pid, 'SIGTERM');
    await again.exited;
    const last = acquireSingleWriterLock(dataDir);
    last.release();
  });

  it('coordinator - two opens in one process: the second is refused until the first is released', () => {
    env = new E2E('lock-inproc');
    const dir = env.path('d');
    const a = acquireSingleWriterLock(dir);
    expect(() => acquireSingleWriterLock(dir)).toThrow(DataDirLockedError);
    a.release();
    a.release(); // idempotent
    const b = acquireSingleWriterLock(dir);
    b.release();
  });

  it('coordinator - the lock is the database lock, not the holder file: another process holding it blocks, with or without WAL', async () => {
    env = new E2E('lock-wal');
    for (const [mode, setup] of [
      ['rollback journal', "db.pragma('locking_mode = EXCLUSIVE'); db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS t (x); COMMIT');"],
      ['WAL', "db.pragma('journal_mode = WAL'); db.pragma('locking_mode = EXCLUSIVE'); db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS t (x); COMMIT');"],
    ] as const) {
      const dir = env.path(mode.replace(/\W/g, '-'));
      acquireSingleWriterLock(dir).release(); // creates the lock file
      const holder = holdWith(env, `holder-${mode.replace(/\W/g, '-')}`, join(dir, LOCK_FILE), setup);
      await waitFor(() => holder.out.includes('holding'), `the ${mode} holder`, 15_000, [holder]);
      // No holder file: the refusal comes from the lock itself.
      expect(() => acquireSingleWriterLock(dir), mode).toThrow(/holder unknown/);
      process.kill(holder.pid, 'SIGKILL');
      await holder.exited;
      const lock = acquireSingleWriterLock(dir);
      // Taken back in rollback-journal mode whatever the file was left in.
      lock.release();
      const check = new Database(join(dir, LOCK_FILE));
      expect(check.pragma('journal_mode', { simple: true }), mode).toBe('delete');
      check.close();
    }
  });

  it('coordinator - a stale holder file left by a killed holder does not block', () => {
    env = new E2E('lock-stale');
    const dir = env.path('d');
    acquireSingleWriterLock(dir).release();
    writeFileSync(join(dir, HOLDER_FILE), JSON.stringify({ pid: 1, host: 'gone', since: '2026-01-01T00:00:00.000Z' }));
    const lock = acquireSingleWriterLock(dir);
    lock.release();
  });
});
