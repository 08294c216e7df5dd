/**
 * One writer per data directory, enforced by the operating system for the life of the process.
 *
 * SQLite in WAL mode lets several processes open npf.db and write it in turn: two coordinators
 * on one data directory (an evicted pod still terminating while its replacement starts; two pods
 * on one node sharing a ReadWriteOnce volume) would interleave leases and scheduling state.
 * So before the store opens, the coordinator takes an exclusive lock on a separate file,
 * `<dataDir>/coordinator.lock`, and holds it until it stops.
 *
 * How: that file is a small SQLite database opened in rollback-journal mode with
 * `locking_mode=EXCLUSIVE`; one write transaction leaves the connection holding SQLite's
 * EXCLUSIVE lock until it closes. On Unix that lock is a POSIX advisory record lock (fcntl) on
 * the file, so:
 * - another process (and another connection in this process) gets SQLITE_BUSY at once
 *   (busy timeout 0) and the second coordinator refuses to start with DataDirLockedError;
 * - the kernel drops the lock when the process dies, however it dies (kill -9, OOM kill): there
 *   is no stale lock to clean up and no pid to interpret. A pid file (O_EXCL) would need
 *   stale-pid detection, which cannot work across containers: every pod has its own pid
 *   namespace, so the pid in a file left by the old pod names nothing (or an unrelated process)
 *   in the new one;
 * - it holds across pods that share the volume on one node (one kernel: RWO block volumes such
 *   as ext4/xfs), and on NFS where the mount has working fcntl locks (NFSv4, or v3 with lockd;
 *   never `nolock`, which makes locks local to each client).
 * The lock file never uses WAL: `journal_mode=DELETE` is set explicitly, and the lock is taken
 * even if something had switched the file to WAL (a WAL database in exclusive locking mode also
 * holds its exclusive lock for the connection's life); the tests check both with two processes.
 *
 * The lock belongs to the file's inode: deleting coordinator.lock while a coordinator runs
 * would let the next one lock a new file beside the running one. Never delete it to "unlock";
 * stop the holder (the error names it).
 *
 * `coordinator.lock.json` beside it names the holder (pid, host, start time) for the error a
 * second coordinator prints; it is informational only (the lock is the database's), removed on
 * a clean stop and overwritten by the next holder after a crash.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DataDirLockedError } from './errors.js';

export const LOCK_FILE = 'coordinator.lock';
export const HOLDER_FILE = 'coordinator.lock.json';

/** Who holds the lock, as written to HOLDER_FILE. */
export interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

export interface SingleWriterLock {
  /** The lock database's path. */
  readonly file: string;
  /** Release the lock (idempotent). The process exiting releases it too. */
  release(): void;
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function describeHolder(dataDir: string): string {
  try {
    const h = JSON.parse(fs.readFileSync(path.join(dataDir, HOLDER_FILE), 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string') return `held by pid ${h.pid} on ${h.host} since ${h.since ?? '?'}`;
  } catch {
    // No readable holder file: the holder has not written it yet, or it was removed.
  }
  return 'holder unknown';
}

/**
 * Take the data directory's single-writer lock, or throw DataDirLockedError at once when another
 * process (or another open in this process) holds it. Creates `dataDir` when missing.
 */
export function acquireSingleWriterLock(dataDir: string, now: () => Date = () => new Date()): SingleWriterLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // Both need the lock: a holder elsewhere makes them throw SQLITE_BUSY.
    db.pragma('journal_mode = DELETE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL)');
    const holder: LockHolder = { pid: process.pid, host: os.hostname(), since: now().toISOString() };
    db.prepare('DELETE FROM holder').run();
    db.prepare('INSERT INTO holder (pid, host, since) VALUES (?, ?, ?)').run(holder.pid, holder.host, holder.since);
    db.exec('COMMIT');
    fs.writeFileSync(path.join(dataDir, HOLDER_FILE), `${JSON.stringify(holder)}\n`);
  } catch (e) {
    db.close();
    if (isBusy(e)) throw new DataDirLockedError(dataDir, file, describeHolder(dataDir));
    throw e;
  }
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      // The holder file goes first: once the lock is free, the next holder may write its own.
      fs.rmSync(path.join(dataDir, HOLDER_FILE), { force: true });
      db.close();
    },
  };
}
