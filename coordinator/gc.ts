/**
 * `npf gc`: garbage collection of a coordinator's data directory, offline. It takes the
 * directory's single-writer lock (so it refuses to run beside a coordinator or `npf run` on the
 * same directory), then in one write:
 *   1. deletes the sweeps named (`deleteSweeps`; a running sweep is refused: cancel it first),
 *      with their events and links to tasks;
 *   2. deletes the tasks no sweep references any more (their documents, attempts, epoch
 *      records, results and artifact records), keeping a parent of a task that stays;
 *   3. prunes history like the coordinator's retention (core/retention.ts), when `retentionDays` > 0;
 * and then removes every file of the content store (artifacts/<sha256>) that no artifact record
 * names (the checkpoints of deleted tasks, resume states replaced or dropped after a success),
 * and every partial upload left in artifacts/tmp. With `dryRun` the same is worked out and
 * reported, then the write is rolled back and no file is removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../common/errors.js';
import { SHA256_HEX } from './artifact-store.js';
import { pruneWithinWrite, type PruneReport } from './core/retention.js';
import { NotFoundError } from './errors.js';
import { acquireSingleWriterLock } from './single-writer-lock.js';
import { CoordinatorStore } from './store/coordinator-store.js';

export interface GcOptions {
  dataDir: string;
  /** Sweeps to delete (ids); none: only unreferenced tasks, history and files. */
  deleteSweeps?: readonly string[];
  /** Prune the history of what finished this many days ago (0: none). Default 30. */
  retentionDays?: number;
  /** Report what would go, change nothing. */
  dryRun?: boolean;
  now?: () => number;
}

export interface GcReport {
  /** Nothing was changed: the counts say what a run without dryRun would delete. */
  dryRun: boolean;
  sweepsDeleted: string[];
  /** Events of the deleted sweeps. */
  eventsDeleted: number;
  tasksDeleted: number;
  pruned: PruneReport;
  /** Files of the content store no artifact record names, removed, and their bytes. */
  filesRemoved: number;
  bytesRemoved: number;
  /** Partial uploads removed from artifacts/tmp. */
  partialUploadsRemoved: number;
}

/** What `fn` returns inside a write that is then rolled back. */
async function rolledBack<T>(store: CoordinatorStore, fn: () => T): Promise<T> {
  const undo = Symbol('dry run');
  let value: T | undefined;
  try {
    await store.write(() => {
      value = fn();
      throw undo;
    });
  } catch (e) {
    if (e !== undo) throw e;
  }
  return value as T;
}

export async function collectGarbage(o: GcOptions): Promise<GcReport> {
  const lock = acquireSingleWriterLock(o.dataDir);
  try {
    const store = new CoordinatorStore(o.dataDir);
    try {
      const hk = store.housekeeping;
      const ids = [...new Set(o.deleteSweeps ?? [])];
      for (const id of ids) {
        const row = store.sweeps.byId(id);
        if (!row) throw new NotFoundError('sweep', id, `no such sweep in ${o.dataDir}`);
        if (row.state === 'running') throw new InvalidInputError(`sweep ${id} is running: cancel it first (npf cancel), then delete it`, { sweepId: id });
      }
      const retentionDays = o.retentionDays ?? 30;
      const cutoff = (o.now ?? Date.now)() - retentionDays * 24 * 3_600_000;
      const dryRun = !!o.dryRun;
      const work = () => {
        let eventsDeleted = 0;
        for (const id of ids) eventsDeleted += hk.deleteSweep(id).events;
        const tasksDeleted = hk.deleteOrphanTasks();
        const pruned = retentionDays > 0 ? pruneWithinWrite(hk, cutoff) : { sweeps: 0, events: 0, progressRows: 0, workers: 0 };
        return { eventsDeleted, tasksDeleted, pruned, referenced: hk.referencedArtifacts() };
      };
      // A dry run does the same in a write that is then rolled back (the savepoint of a write that throws).
      const { referenced, ...db } = dryRun ? await rolledBack(store, work) : await store.write(work);
      const dir = path.join(o.dataDir, 'artifacts');
      let filesRemoved = 0;
      let bytesRemoved = 0;
      for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
        if (!SHA256_HEX.test(name) || referenced.has(name)) continue;
        const file = path.join(dir, name);
        bytesRemoved += fs.statSync(file).size;
        if (!dryRun) fs.rmSync(file, { force: true });
        filesRemoved++;
      }
      const tmp = path.join(dir, 'tmp');
      const partial = fs.existsSync(tmp) ? fs.readdirSync(tmp) : [];
      if (!dryRun) for (const f of partial) fs.rmSync(path.join(tmp, f), { force: true, recursive: true });
      return { dryRun, sweepsDeleted: ids, ...db, filesRemoved, bytesRemoved, partialUploadsRemoved: partial.length };
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}
