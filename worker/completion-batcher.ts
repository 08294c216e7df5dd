/**
 * Batches the results that are ready at the same moment into one CompleteTasks call.
 *
 * `submit` queues a result (its checkpoints already uploaded) and flushes on the next
 * event-loop turn (setImmediate): results that became ready in the same turn share one round
 * trip, and no result ever waits on a timer. The batch asks for `leaseNextPerResult(item)` new
 * tasks per result (1 for a result that frees a slot) and hands the leases of the answer to
 * `onLeases`.
 *
 * Against an older coordinator that answers UNIMPLEMENTED, the batcher falls back for good to one
 * CompleteTask per result (each with its own lease_next), as the worker did before.
 *
 * Batcher lifecycle: 'batching' -> 'single' (after the first UNIMPLEMENTED); never back.
 */
import { status } from '@grpc/grpc-js';
import type { CompleteTaskRequest, CompleteTaskResponse, CompleteTasksResponse, TaskLease } from '../gen/npf/v1/sweep.js';

/** A result to report: a CompleteTaskRequest without lease_next (the batcher decides it) and the worker secret (the client adds it). */
export type CompletionItem = Omit<CompleteTaskRequest, 'leaseNext' | 'workerSecret'>;

export interface CompletionBatcherOptions {
  /** CompleteTasks (with the caller's retries): rejects with code UNIMPLEMENTED on an older coordinator. */
  sendBatch: (items: CompletionItem[], leaseNext: number) => Promise<CompleteTasksResponse>;
  /** CompleteTask for one result (with the caller's retries): the fallback. */
  sendOne: (item: CompletionItem, leaseNext: number) => Promise<CompleteTaskResponse>;
  /**
   * New tasks to ask for with a reported result: 1 when it frees a slot while the worker runs; 0
   * while it drains, or for a bundle member whose process still trains other members.
   */
  leaseNextPerResult: (item: CompletionItem) => number;
  /** Leases granted in an answer (lease_next). */
  onLeases: (leases: readonly TaskLease[]) => void;
  /** Called once when the coordinator turns out not to know CompleteTasks. */
  onFallback?: () => void;
  /** Most results per call (the coordinator accepts up to 256). */
  maxBatch?: number;
}

/** The coordinator refused one result of a batch: carries the item's gRPC code and sentence. */
export class CompletionRefusedError extends Error {
  constructor(
    readonly taskId: string,
    readonly code: status,
    readonly details: string,
  ) {
    super(`task ${taskId}: ${status[code] ?? code}: ${details}`);
    this.name = 'CompletionRefusedError';
  }
}

interface Queued {
  item: CompletionItem;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class CompletionBatcher {
  private mode: 'batching' | 'single' = 'batching';
  private queue: Queued[] = [];
  private scheduled = false;
  private readonly maxBatch: number;

  constructor(private readonly o: CompletionBatcherOptions) {
    this.maxBatch = Math.max(1, o.maxBatch ?? 256);
  }

  /** Whether CompleteTasks is in use ('batching') or the coordinator lacks it ('single'). */
  get protocol(): 'batching' | 'single' {
    return this.mode;
  }

  /** Report a result; resolves once recorded, rejects with the coordinator's refusal of this result. */
  submit(item: CompletionItem): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      if (this.mode === 'single') for (const q of batch) this.sendOne(q);
      else void this.sendBatch(batch);
    }
  }

  private sendOne(q: Queued): void {
    this.o.sendOne(q.item, this.o.leaseNextPerResult(q.item)).then((res) => {
      q.resolve();
      this.o.onLeases(res.nextLeases ?? []);
    }, q.reject);
  }

  private async sendBatch(batch: Queued[]): Promise<void> {
    let res: CompleteTasksResponse;
    try {
      res = await this.o.sendBatch(
        batch.map((q) => q.item),
        batch.reduce((n, q) => n + this.o.leaseNextPerResult(q.item), 0),
      );
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code === status.UNIMPLEMENTED) {
        if (this.mode === 'batching') {
          this.mode = 'single';
          this.o.onFallback?.();
        }
        for (const q of batch) this.sendOne(q);
        return;
      }
      for (const q of batch) q.reject(err);
      return;
    }
    batch.forEach((q, i) => {
      const out = res.outcomes[i];
      if (!out) q.reject(new CompletionRefusedError(q.item.taskId, status.INTERNAL, `the coordinator answered ${res.outcomes.length} outcomes for ${batch.length} results`));
      else if (out.ok) q.resolve();
      else q.reject(new CompletionRefusedError(q.item.taskId, out.code as status, out.message));
    });
    this.o.onLeases(res.nextLeases ?? []);
  }
}
