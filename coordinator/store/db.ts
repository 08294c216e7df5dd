/**
 * The coordinator's durable state: one SQLite file (better-sqlite3) in WAL mode.
 *
 * Durability: `synchronous=FULL`, so a write the coordinator acknowledged survives a power loss,
 * not only a process crash. An fsync per commit costs ~0.4 ms here, so writes are GROUP
 * COMMITTED: `write(fn)` runs `fn` at once inside a savepoint of a transaction that stays open
 * until the end of the current event-loop turn, then one COMMIT (one fsync) covers every write
 * of that turn and only then are the callers' promises resolved (and their after-commit effects
 * run: events to watchers, metrics, waking long polls). Nothing is acknowledged before it is on
 * disk, and the fsync is shared by every RPC handled in the same turn.
 * `synchronous: 'normal'` (an option) drops the per-commit fsync: still safe against a crash
 * of the coordinator process, but a power loss may undo the last acknowledged writes.
 *
 * Read-only (`mode: 'readonly'`, what `npf status/ls/results/watch` use on a local directory):
 * the file must exist and have this version's schema; nothing is created, migrated or written,
 * and WAL lets it read beside a live writer (`npf run`, a coordinator) without blocking it.
 *
 * This file is the connection and its transactions; the tables are read and written by the other
 * modules of coordinator/store/ (the only place in the coordinator that speaks SQL). Lifecycle
 * rules live in coordinator/core/ and task-state.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { NpfError } from '../../common/errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';

/** The database cannot be opened or was written by a newer coordinator. */
export class StoreError extends NpfError {
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('STORE', message, context, options);
  }
}

type Stmt = Database.Statement<unknown[], unknown>;

export class Db {
  readonly db: Database.Database;
  readonly file: string;
  private batchOpen = false;
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private effects: Array<() => void> = [];
  private opEffects: Array<() => void> | null = null;
  private readonly stmts = new Map<string, Stmt>();
  private readonly rawStmts = new Map<string, Stmt>();
  private closed = false;
  /** Group commits done and writes they held (the ratio is the batching achieved). */
  readonly stats = { commits: 0, writes: 0 };

  constructor(
    dataDir: string,
    private readonly onEffectError: (e: unknown) => void = () => {},
    synchronous: 'full' | 'normal' = 'full',
    readonly mode: 'readwrite' | 'readonly' = 'readwrite',
  ) {
    this.file = path.join(dataDir, 'npf.db');
    if (mode === 'readonly') {
      this.db = Db.openReadOnly(this.file);
      return;
    }
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      this.db = new Database(this.file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 5000');
      // 64 MiB page cache; checkpoint the WAL every ~32 MiB instead of 4 MiB: hot pages (index
      // roots, the sweep row) are written back once per checkpoint, not once per 1000 pages.
      this.db.pragma('cache_size = -65536');
      this.db.pragma('wal_autocheckpoint = 8000');
    } catch (e) {
      throw new StoreError(`cannot open the coordinator database ${this.file}: ${(e as Error).message}`, { file: this.file }, { cause: e });
    }
    this.migrate();
  }

  /** Open an existing database for reading only, refusing one of another schema version. */
  private static openReadOnly(file: string): Database.Database {
    if (!fs.existsSync(file)) throw new StoreError(`no npf state at ${file}: nothing has run there (run 'npf run' in it, or name a --coordinator)`, { file });
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
    } catch (e) {
      throw new StoreError(`cannot open ${file} for reading: ${(e as Error).message}`, { file }, { cause: e });
    }
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    const version = row?.version ?? 0;
    if (version !== SCHEMA_VERSION) {
      db.close();
      throw new StoreError(
        version > SCHEMA_VERSION
          ? `${file} has schema version ${version}, newer than this npf's ${SCHEMA_VERSION}: upgrade npf-sweep`
          : `${file} has schema version ${version}, older than this npf's ${SCHEMA_VERSION}: run this npf's 'npf run' or 'npf coordinator' on it once to upgrade it`,
        { file, version },
      );
    }
    return db;
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    const current = row?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new StoreError(
        `${this.file} has schema version ${current}, newer than this coordinator's ${SCHEMA_VERSION}: upgrade npf-sweep`,
        { file: this.file, version: current },
      );
    }
    const apply = this.db.transaction(() => {
      for (const m of MIGRATIONS) if (m.version > current) this.db.exec(m.sql);
      if (row) this.db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION);
      else this.db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
    });
    if (current < SCHEMA_VERSION) apply();
  }

  schemaVersion(): number {
    return (this.db.prepare('SELECT version FROM schema_version').get() as { version: number }).version;
  }

  /** A cached prepared statement. */
  stmt(sql: string): Stmt {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  /** Rows as arrays (no per-row object): for hot queries over many rows. */
  raw<T extends unknown[]>(sql: string, ...params: unknown[]): T[] {
    let s = this.rawStmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql).raw(true);
      this.rawStmts.set(sql, s);
    }
    return s.all(...params) as T[];
  }

  get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  run(sql: string, ...params: unknown[]): Database.RunResult {
    return this.stmt(sql).run(...params);
  }

  /**
   * Run `fn` now, atomically (a savepoint: if it throws, none of its writes stay), and resolve
   * once the group commit that holds it is durable. `fn` must not touch in-memory state except
   * through `afterCommit`.
   */
  write<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError('the coordinator database is closed'));
    if (this.mode === 'readonly') return Promise.reject(new StoreError(`${this.file} is open for reading only`));
    if (this.opEffects) throw new Error('Db.write is not reentrant');
    if (!this.batchOpen) {
      this.stmt('BEGIN IMMEDIATE').run();
      this.batchOpen = true;
      setImmediate(() => this.flush());
    }
    this.stmt('SAVEPOINT op').run();
    const local: Array<() => void> = [];
    this.opEffects = local;
    let value: T;
    try {
      value = fn();
      this.stmt('RELEASE op').run();
    } catch (e) {
      this.stmt('ROLLBACK TO op').run();
      this.stmt('RELEASE op').run();
      return Promise.reject(e);
    } finally {
      this.opEffects = null;
    }
    this.effects.push(...local);
    this.stats.writes++;
    return new Promise<T>((resolve, reject) => this.waiters.push({ resolve: () => resolve(value), reject }));
  }

  /**
   * Inside a `write`: run `fn` in a nested savepoint, so that if it throws, its writes and its
   * after-commit effects are undone while the rest of the enclosing write stays (one item of a
   * batch refused on its own). Rethrows `fn`'s error.
   */
  within<T>(fn: () => T): T {
    const outer = this.opEffects;
    if (!outer) throw new Error('Db.within must run inside Db.write');
    this.stmt('SAVEPOINT item').run();
    const local: Array<() => void> = [];
    this.opEffects = local;
    try {
      const value = fn();
      this.stmt('RELEASE item').run();
      outer.push(...local);
      return value;
    } catch (e) {
      this.stmt('ROLLBACK TO item').run();
      this.stmt('RELEASE item').run();
      throw e;
    } finally {
      this.opEffects = outer;
    }
  }

  /** Run `cb` after the current write's group commit (at once outside a write). */
  afterCommit(cb: () => void): void {
    if (this.opEffects) this.opEffects.push(cb);
    else cb();
  }

  /** Commit the open group now (normally at the end of the event-loop turn). */
  flush(): void {
    if (!this.batchOpen) return;
    const waiters = this.waiters;
    const effects = this.effects;
    this.waiters = [];
    this.effects = [];
    this.batchOpen = false;
    try {
      this.stmt('COMMIT').run();
    } catch (e) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // already rolled back by SQLite
      }
      const err = new StoreError(`cannot commit to ${this.file}: ${(e as Error).message}`, {}, { cause: e });
      for (const w of waiters) w.reject(err);
      return;
    }
    this.stats.commits++;
    for (const cb of effects) {
      try {
        cb();
      } catch (e) {
        this.onEffectError(e);
      }
    }
    for (const w of waiters) w.resolve();
  }

  isOpen(): boolean {
    return !this.closed && this.db.open;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }
}
