/**
 * Heartbeats: every interval the coordinator asked for, tell it which leases this worker still
 * holds, whether it drains, and the epoch records not yet delivered (ProgressBuffer). The answer
 * names tasks to cancel. A failed beat is not retried: its records stay in the buffer and go
 * with the next one (WorkerRetry 'heartbeat' row).
 */
import type { CoordinatorClient } from './coordinator-client.js';
import type { WorkerAuthError } from './errors.js';
import type { ProgressBuffer } from './progress-buffer.js';
import type { WorkerRetry } from './worker-retry.js';

export interface HeartbeatsOptions {
  client: CoordinatorClient;
  retry: WorkerRetry;
  progress: ProgressBuffer;
  workerId: () => string;
  intervalMs: () => number;
  draining: () => boolean;
  stopped: () => boolean;
  /** The coordinator asked to stop this task (cancelled, or the lease is no longer ours). */
  onCancel: (taskId: string) => void;
  /** The coordinator refused this worker's token: stop the worker. */
  onFatal: (err: WorkerAuthError) => void;
}

export class Heartbeats {
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: HeartbeatsOptions) {}

  /** Beat every interval until stop(). */
  start(): void {
    if (this.o.stopped()) return;
    this.timer = setTimeout(() => {
      void this.beat().finally(() => this.start());
    }, this.o.intervalMs());
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** One heartbeat now (drain calls it to tell the coordinator at once). */
  async beat(): Promise<void> {
    const workerId = this.o.workerId();
    if (!workerId || this.o.stopped()) return;
    const snap = this.o.progress.snapshot();
    let res;
    try {
      res = await this.o.retry.once('heartbeat', () =>
        this.o.client.heartbeat({
          workerId,
          draining: this.o.draining(),
          tasks: snap.map((s) => ({ taskId: s.taskId, fencingToken: s.fencingToken, epoch: s.epoch, epochsJson: JSON.stringify(s.records) })),
        }),
      );
    } catch (err) {
      return this.o.onFatal(err as WorkerAuthError);
    }
    if (!res) return;
    this.o.progress.acknowledge(snap);
    for (const id of res.cancelTaskIds) this.o.onCancel(id);
  }
}
