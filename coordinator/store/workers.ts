/** SQL of `workers`: registered workers, their resources and when they were last seen. */
import type { Db } from './db.js';
import type { WorkerRow } from './rows.js';

/** The columns leasing needs. */
export type LeaseWorkerRow = Pick<WorkerRow, 'cpu' | 'gpu' | 'memory_mb' | 'draining' | 'max_bundle'>;

export class WorkerTable {
  constructor(private readonly db: Db) {}

  insert(w: Omit<WorkerRow, 'draining'>): void {
    this.db.run(
      `INSERT INTO workers (worker_id, hostname, cpu, gpu, memory_mb, backends_json, version, draining, registered_at_ms, last_seen_ms, max_bundle, secret_sha256)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`,
      w.worker_id,
      w.hostname,
      w.cpu,
      w.gpu,
      w.memory_mb,
      w.backends_json,
      w.version,
      w.registered_at_ms,
      w.last_seen_ms,
      w.max_bundle,
      w.secret_sha256,
    );
  }

  byId(workerId: string): WorkerRow | undefined {
    return this.db.get<WorkerRow>('SELECT * FROM workers WHERE worker_id = ?', workerId);
  }

  /** The worker's resources and draining flag, for leasing (a narrow read on the hot path). */
  forLeasing(workerId: string): LeaseWorkerRow | undefined {
    return this.db.get<LeaseWorkerRow>('SELECT cpu, gpu, memory_mb, draining, max_bundle FROM workers WHERE worker_id = ?', workerId);
  }

  /** The SHA-256 (hex) of the worker's secret: undefined for an unknown worker, null for one registered before secrets. */
  secretDigest(workerId: string): string | null | undefined {
    return this.db.get<{ secret_sha256: string | null }>('SELECT secret_sha256 FROM workers WHERE worker_id = ?', workerId)?.secret_sha256;
  }

  touch(workerId: string, now: number): void {
    this.db.run('UPDATE workers SET last_seen_ms = ? WHERE worker_id = ?', now, workerId);
  }

  /** A heartbeat: seen now, draining or not. */
  heartbeat(workerId: string, now: number, draining: boolean): void {
    this.db.run('UPDATE workers SET last_seen_ms = ?, draining = ? WHERE worker_id = ?', now, draining ? 1 : 0, workerId);
  }

  /** Workers seen after `sinceMs`. */
  seenSince(sinceMs: number): WorkerRow[] {
    return this.db.all<WorkerRow>('SELECT * FROM workers WHERE last_seen_ms > ?', sinceMs);
  }
}
