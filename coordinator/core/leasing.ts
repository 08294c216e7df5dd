/**
 * Leasing: which ready tasks a worker gets (scheduler.ts places them on its free resources), in
 * one write, and LeaseTasks' long poll. Also used by CompleteTask's lease_next, inside the
 * completion's own write.
 *
 * Bundles (docs/fusion.md): for a worker that trains several trials as one stacked process
 * (registered max_bundle > 1), each placed first-attempt task with a fusion key gathers ready
 * first-attempt tasks of the same key, up to the worker's and the sweep's limit. Every member is
 * leased like any task (its own attempt, fencing token, lease expiry, report); the bundle holds
 * the resources of one task (the scheduler sees one process) and its id is the leader's task id.
 * A retried task (attempt > 0) always runs alone.
 */
import { NotFoundError } from '../errors.js';
import { leaseExpiry } from '../lease-policy.js';
import { placeTasks, type Candidate, type HeldAllocation } from '../scheduler.js';
import type { TaskRow } from '../store/rows.js';
import type { LeaseWorkerRow } from '../store/workers.js';
import { requireId, type CoreContext } from './context.js';
import { RESUME_ARTIFACT, type Lease } from './types.js';

/** Longest a LeaseTasks call may wait for work. */
const MAX_WAIT_MS = 120_000;

export class Leasing {
  /** When each worker's last_seen_ms was last written (touchWorker). */
  private readonly seenWritten = new Map<string, number>();

  constructor(private readonly c: CoreContext) {}

  /** Lease what fits now (possibly nothing). One group commit for the whole batch. */
  leaseNow(workerId: string, maxTasks: number): Promise<Lease[]> {
    return this.c.life.write(() => this.leaseWithinWrite(workerId, maxTasks));
  }

  /**
   * Lease tasks for a worker, holding the call up to `waitMs` when nothing fits now (long poll).
   * `signal` ends the wait early (client gone, server stopping).
   */
  async leaseTasks(workerId: string, maxTasks: number, waitMs: number, signal?: AbortSignal): Promise<Lease[]> {
    const deadline = Date.now() + Math.max(0, Math.min(waitMs, MAX_WAIT_MS));
    for (;;) {
      // A wake-up between this lease attempt and the wait below must not be lost (a completion
      // committed while our empty attempt awaited its own commit): compare wake counts.
      const seen = this.c.waiters.wakesOf(workerId);
      const leases = await this.leaseNow(workerId, maxTasks);
      if (leases.length > 0 || Date.now() >= deadline || signal?.aborted) return leases;
      if (this.c.waiters.wakesOf(workerId) !== seen) continue;
      // Also wake at the earliest end of a retry backoff.
      const now = this.c.opts.now();
      const backoffEnd = this.c.store.tasks.earliestBackoffEnd(now);
      const untilBackoff = backoffEnd != null ? Math.max(1, backoffEnd - now) : Infinity;
      await this.c.waiters.wait(workerId, Math.min(deadline - Date.now(), untilBackoff), signal);
      if (signal?.aborted) return [];
    }
  }

  /**
   * Lease up to `maxTasks` tasks that fit the worker's free resources, inside the current write.
   *
   * Hot path: the ready queue is read as narrow raw rows (materialising 21-column objects for
   * the whole look-ahead cost ~0.8 ms a call), and only the placed tasks are read in full.
   */
  leaseWithinWrite(workerId: string, maxTasks: number): Lease[] {
    const { store, opts, life } = this.c;
    const w = this.worker(workerId);
    const max = Math.max(1, Math.min(Math.floor(maxTasks) || 1, 256));
    const now = opts.now();
    this.touchWorker(workerId, now);
    if (w.draining) return [];
    let held: HeldAllocation[];
    if (w.gpu > 0) {
      held = store.tasks
        .heldByWorker(workerId)
        .map(([cpu, gpu, memoryMb, gpuIndices]) => ({ resources: { cpu, gpu, memoryMb }, gpuIndices: JSON.parse(gpuIndices) as number[] }));
    } else {
      // No devices to track: what the worker holds is one pooled cpu/memory sum (one row, not one per lease).
      const [n, cpu, memoryMb] = store.tasks.heldByWorkerPooled(workerId);
      held = n > 0 ? [{ resources: { cpu, gpu: 0, memoryMb }, gpuIndices: [] }] : [];
    }
    let freeCpu = w.cpu;
    let freeMem = w.memory_mb;
    for (const h of held) {
      freeCpu -= h.resources.cpu;
      freeMem -= h.resources.memoryMb;
    }
    // Enough to skip tasks that do not fit (GPU shape, packing) without reading the whole queue.
    // One task for a worker without GPUs (CompleteTask's lease_next): every row already fits on
    // its own and the scheduler's order is the index's, so the first row is its choice.
    const limit = w.gpu === 0 && max === 1 ? 1 : Math.max(32, max * 2);
    const rows = store.tasks.readyCandidates(now, freeCpu + 1e-9, freeMem, w.gpu, limit);
    if (rows.length === 0) return [];
    const candidates: Candidate[] = rows.map(([seq, taskId, cpu, gpu, memoryMb, priority, hasDependants]) => ({
      taskId,
      resources: { cpu, gpu, memoryMb },
      priority,
      hasDependants: hasDependants === 1,
      seq,
    }));
    const placements = placeTasks({ cpu: w.cpu, gpu: w.gpu, memoryMb: w.memory_mb }, held, candidates, max);
    const leases: Lease[] = [];
    // Greedy, in placement order: a placed task already gathered into an earlier bundle is not
    // leased again (its slot stays free for the next call).
    const taken = new Set<string>();
    let bundles = 0;
    for (const p of placements) {
      if (taken.has(p.taskId)) continue;
      taken.add(p.taskId);
      const leader = life.task(p.taskId);
      const members = [leader, ...this.bundleMates(leader, w.max_bundle, now, taken)];
      const bundleId = members.length > 1 ? leader.task_id : undefined;
      if (bundleId) bundles++;
      for (const row of members) leases.push(this.grant(workerId, row, p.gpuIndices, now, bundleId));
    }
    if (leases.length) store.afterCommit(() => this.c.observer.leaseGranted?.(leases.length, bundles));
    return leases;
  }

  /**
   * Ready tasks to train with `leader` as one stack: same fusion key, first attempts, at most
   * min(worker's max_bundle, the sweep's fuse) - 1, none already `taken` (which it extends).
   */
  private bundleMates(leader: TaskRow, workerMax: number, now: number, taken: Set<string>): TaskRow[] {
    if (workerMax <= 1 || !leader.fusion_key || leader.attempt !== 0) return [];
    const size = leader.fuse_max > 0 ? Math.min(workerMax, leader.fuse_max) : workerMax;
    if (size <= 1) return [];
    const ids = this.c.store.tasks.readyBundleMates(leader.fusion_key, now, size - 1 + taken.size).filter((id) => !taken.has(id));
    const mates = ids.slice(0, size - 1);
    for (const id of mates) taken.add(id);
    return mates.map((id) => this.c.life.task(id));
  }

  /** Lease one task to the worker (its next attempt), inside the current write. */
  private grant(workerId: string, row: TaskRow, gpuIndices: number[], now: number, bundleId: string | undefined): Lease {
    const { store, opts, life, events } = this.c;
    const specJson = store.tasks.specJson(row.task_id);
    const attempt = row.attempt + 1;
    const parent = row.parent_task_id ? life.parentCheckpoint(row) : undefined;
    // An earlier attempt's resume state (a first attempt has none to look up).
    const resume = row.attempt > 0 ? store.artifacts.get(row.task_id, RESUME_ARTIFACT) : undefined;
    life.setState(row, 'leased', {
      attempt,
      tries: row.tries + 1,
      lease_worker: workerId,
      lease_expires_ms: leaseExpiry(now, opts.leaseTtlMs),
      leased_at_ms: now,
      gpu_indices: gpuIndices.length ? JSON.stringify(gpuIndices) : '[]',
      error: null,
      bundle_id: bundleId ?? null,
    });
    const sweeps = life.sweepsOf(row.task_id);
    events.task(sweeps, row.task_id, 'task.leased', {
      workerId,
      attempt,
      ...(gpuIndices.length ? { gpuIndex: gpuIndices[0] } : {}),
      ...(bundleId ? { bundleId } : {}),
    });
    return {
      taskId: row.task_id,
      sweepId: sweeps[0] ?? '',
      fencingToken: attempt,
      specJson,
      parentCheckpoint: parent ? { name: parent.name, sha256: parent.sha256, size: parent.size, epoch: parent.epoch } : undefined,
      resumeFrom: resume ? { name: resume.name, sha256: resume.sha256, size: resume.size, epoch: resume.epoch } : undefined,
      resources: { cpu: row.cpu, gpu: row.gpu, memoryMb: row.memory_mb },
      gpuIndex: gpuIndices[0] ?? -1,
      ...(bundleId ? { bundleId } : {}),
    };
  }

  /** The worker's resources and draining flag (NOT_FOUND if unknown). */
  private worker(workerId: string): LeaseWorkerRow {
    requireId(workerId, 'worker_id');
    const w = this.c.store.workers.forLeasing(workerId);
    if (!w) throw new NotFoundError('worker', workerId, 'register it first (RegisterWorker)');
    return w;
  }

  /**
   * Record that a worker was seen (workers.last_seen_ms, read by liveWorkers() for the metrics):
   * at most once a second per worker, not once per lease, which at thousands of leases a second
   * is a row rewrite per lifecycle for a value read with a lease-TTL granularity.
   */
  private touchWorker(workerId: string, now: number): void {
    const last = this.seenWritten.get(workerId);
    if (last !== undefined && now >= last && now - last < 1000) return;
    this.c.store.workers.touch(workerId, now);
    // Only once committed: a rolled-back write must not suppress the next update.
    this.c.store.afterCommit(() => this.seenWritten.set(workerId, now));
  }
}
