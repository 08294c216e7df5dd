/**
 * Workers: registration, which issues each worker id its own secret, the check of that secret
 * (`authenticate`: the rpc edge runs it before every call that names a worker id), and
 * heartbeats, which renew the leases a worker reports, record their epoch progress and answer
 * which of them the worker must stop (fenced like every report).
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { InvalidRequestError, NotFoundError, PermissionDeniedError } from '../errors.js';
import { leaseExpiry } from '../lease-policy.js';
import { LIMITS } from '../limits.js';
import type { WorkerRow } from '../store/rows.js';
import { epochRecordsSchema, parseJsonField } from '../trial-result-schema.js';
import { requireId, type CoreContext } from './context.js';
import { fenceRefusal } from './fence.js';
import type { ProgressInput, RegisterInput, Registration } from './types.js';

/** Bytes of a worker secret (128 bits). */
const SECRET_BYTES = 16;

function digestOf(secret: string): Buffer {
  return crypto.createHash('sha256').update(secret).digest();
}

export class Workers {
  /** SHA-256 of each known worker's secret (read once from the store, or set at registration). */
  private readonly digests = new Map<string, Buffer>();

  constructor(private readonly c: CoreContext) {}

  /**
   * Whether `secret` is the one issued to `workerId` at registration (constant time). Unknown
   * worker, or one registered before secrets existed: NOT_FOUND (the worker registers again).
   * Wrong or missing secret: PERMISSION_DENIED. The id is public (events and the dashboard name
   * it); the secret is what makes a caller that worker.
   */
  authenticate(workerId: string, secret: string): void {
    requireId(workerId, 'worker_id');
    let expected = this.digests.get(workerId);
    if (!expected) {
      const stored = this.c.store.workers.secretDigest(workerId);
      if (stored === undefined) throw new NotFoundError('worker', workerId, 'register it first (RegisterWorker)');
      if (stored === null) throw new NotFoundError('worker', workerId, 'it was registered before worker secrets: register again (RegisterWorker)');
      expected = Buffer.from(stored, 'hex');
      this.digests.set(workerId, expected);
    }
    if (!secret) {
      throw new PermissionDeniedError(`worker_secret is empty: calls naming worker ${workerId} must carry the secret RegisterWorker returned`, { workerId });
    }
    if (!crypto.timingSafeEqual(digestOf(secret), expected)) {
      throw new PermissionDeniedError(`worker_secret is not the one issued to worker ${workerId}: only that worker may act for it`, { workerId });
    }
  }

  registerWorker(input: RegisterInput): Promise<Registration> {
    const { opts, store } = this.c;
    const r = input.resources;
    if (!(r.cpu > 0) || !(r.gpu >= 0) || !Number.isInteger(r.gpu) || !(r.memoryMb > 0)) {
      throw new InvalidRequestError(
        `worker resources ${JSON.stringify(r)} are invalid: cpu and memory_mb must be > 0, gpu a whole number of devices >= 0`,
      );
    }
    const host = (input.hostname || os.hostname()).replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 40) || 'worker';
    const workerId = `${host}-${crypto.randomBytes(4).toString('hex')}`;
    const maxBundle = Math.max(1, Math.min(Math.floor(input.maxBundle ?? 1) || 1, LIMITS.maxBundle));
    const workerSecret = crypto.randomBytes(SECRET_BYTES).toString('hex');
    const digest = digestOf(workerSecret);
    return this.c.life.write(() => {
      const now = opts.now();
      store.workers.insert({
        worker_id: workerId,
        hostname: input.hostname,
        cpu: r.cpu,
        gpu: r.gpu,
        memory_mb: Math.round(r.memoryMb),
        backends_json: JSON.stringify(input.backends),
        version: input.version,
        registered_at_ms: now,
        last_seen_ms: now,
        max_bundle: maxBundle,
        secret_sha256: digest.toString('hex'),
      });
      store.afterCommit(() => this.digests.set(workerId, digest));
      const gpus = input.gpuNames?.length ? ` (${input.gpuNames.join(', ')})` : '';
      const fused = maxBundle > 1 ? ` fuses up to ${maxBundle} trials per process` : '';
      store.afterCommit(() => opts.log(`worker ${workerId} registered: cpu=${r.cpu} gpu=${r.gpu}${gpus} memoryMb=${r.memoryMb}${fused}`));
      return { workerId, workerSecret, leaseTtlMs: opts.leaseTtlMs, heartbeatIntervalMs: opts.heartbeatIntervalMs };
    });
  }

  /** Renew a worker's leases, record progress; answer the task ids it must stop. */
  heartbeat(workerId: string, tasks: readonly ProgressInput[], draining: boolean): Promise<{ cancelTaskIds: string[] }> {
    const { store, opts, life, events, observer } = this.c;
    this.worker(workerId);
    const parsed = tasks.map((p) => {
      requireId(p.taskId, 'tasks[].task_id');
      const epochs = p.epochsJson ? parseJsonField(p.epochsJson, epochRecordsSchema, `epochs_json of task ${p.taskId}`) : [];
      return { ...p, epochs };
    });
    return life.write(() => {
      const now = opts.now();
      store.workers.heartbeat(workerId, now, draining);
      // Renew only the leases the worker reports holding: a lease whose grant never reached the
      // worker (a lost LeaseTasks / CompleteTask answer) is not renewed and expires, so it cannot
      // stay 'running' for as long as the worker lives. The worker reports every task from the
      // moment it starts it, so one heartbeat interval (< TTL / 2) covers a grant in flight.
      const expires = leaseExpiry(now, opts.leaseTtlMs);
      const cancel: string[] = [];
      const epochSeconds: number[] = [];
      for (const p of parsed) {
        const row = store.tasks.byId(p.taskId);
        if (!row || fenceRefusal(row, p.fencingToken, workerId)) {
          cancel.push(p.taskId);
          continue;
        }
        store.tasks.renewLease(row.task_id, expires);
        if (row.state === 'leased') life.setState(row, 'running');
        if (p.epochs.length === 0) continue;
        const sweeps = life.sweepsOf(row.task_id);
        const total = store.tasks.epochsOf(row.task_id) ?? 0;
        for (const e of p.epochs) {
          // Bounded growth: an epoch the trial does not have, or one already recorded (a
          // heartbeat repeated after a lost answer), adds no row and no event.
          if (total > 0 && e.epoch > total) continue;
          if (!store.attempts.recordProgress(row.task_id, row.attempt, e.epoch, JSON.stringify(e))) continue;
          epochSeconds.push(e.durationMs / 1000);
          events.task(sweeps, row.task_id, 'task.progress', {
            attempt: row.attempt,
            epoch: e.epoch,
            epochs: total,
            testAccuracy: e.testAccuracy,
            ...(e.trainLoss !== null ? { trainLoss: e.trainLoss } : {}),
            ...(e.testLoss !== null ? { testLoss: e.testLoss } : {}),
            examplesPerSec: e.examplesPerSec,
          });
        }
      }
      if (epochSeconds.length) store.afterCommit(() => epochSeconds.forEach((s) => observer.epochObserved?.(s)));
      return { cancelTaskIds: cancel };
    });
  }

  private worker(workerId: string): WorkerRow {
    requireId(workerId, 'worker_id');
    const w = this.c.store.workers.byId(workerId);
    if (!w) throw new NotFoundError('worker', workerId, 'register it first (RegisterWorker)');
    return w;
  }
}
