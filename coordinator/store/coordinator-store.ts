/**
 * The coordinator's domain store: one SQLite database (db.ts: connection, migrations, group
 * commit) and one small module of SQL per table. The core (coordinator/core/) calls these and
 * never writes SQL itself.
 */
import { ArtifactTable } from './artifacts.js';
import { AttemptTable } from './attempts.js';
import { Db } from './db.js';
import { EventTable } from './events.js';
import { HousekeepingSql } from './housekeeping.js';
import { ResultTable } from './results.js';
import { SweepTable } from './sweeps.js';
import { TaskTable } from './tasks.js';
import { WorkerTable } from './workers.js';

export class CoordinatorStore {
  readonly db: Db;
  readonly tasks: TaskTable;
  readonly sweeps: SweepTable;
  readonly attempts: AttemptTable;
  readonly results: ResultTable;
  readonly artifacts: ArtifactTable;
  readonly events: EventTable;
  readonly workers: WorkerTable;
  readonly housekeeping: HousekeepingSql;

  /**
   * Open (creating and migrating) `<dataDir>/npf.db`; see Db for `synchronous`. With mode
   * 'readonly' the file must exist: nothing is created, migrated or written.
   */
  constructor(dataDir: string, onEffectError: (e: unknown) => void = () => {}, synchronous: 'full' | 'normal' = 'full', mode: 'readwrite' | 'readonly' = 'readwrite') {
    this.db = new Db(dataDir, onEffectError, synchronous, mode);
    this.tasks = new TaskTable(this.db);
    this.sweeps = new SweepTable(this.db);
    this.attempts = new AttemptTable(this.db);
    this.results = new ResultTable(this.db);
    this.artifacts = new ArtifactTable(this.db);
    this.events = new EventTable(this.db);
    this.workers = new WorkerTable(this.db);
    this.housekeeping = new HousekeepingSql(this.db);
  }

  /** Group commits done and writes they held. */
  get stats(): Db['stats'] {
    return this.db.stats;
  }

  /** One atomic, group-committed write (Db.write). */
  write<T>(fn: () => T): Promise<T> {
    return this.db.write(fn);
  }

  /** A nested savepoint inside a write (Db.within). */
  within<T>(fn: () => T): T {
    return this.db.within(fn);
  }

  /** Run `cb` after the current write's group commit (Db.afterCommit). */
  afterCommit(cb: () => void): void {
    this.db.afterCommit(cb);
  }

  isOpen(): boolean {
    return this.db.isOpen();
  }

  close(): void {
    this.db.close();
  }
}
