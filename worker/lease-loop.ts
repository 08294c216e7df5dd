/**
 * The lease loop: while the worker runs, long-poll LeaseTasks for as many tasks as there are
 * free slots, and hand what comes back to the task pipeline. With no free slot it waits for one.
 * Failures go through WorkerRetry ('lease' row); the loop ends when the worker stops running
 * (drain cancels the call in flight), and throws only what must stop the worker.
 */
import type { TaskLease } from '../gen/npf/v1/sweep.js';
import type { ActiveTasks } from './active-tasks.js';
import type { CoordinatorClient } from './coordinator-client.js';
import type { WorkerRetry } from './worker-retry.js';

export interface LeaseLoopOptions {
  client: CoordinatorClient;
  retry: WorkerRetry;
  tasks: ActiveTasks;
  /** Long-poll wait the coordinator may take before answering with no lease. */
  leaseWaitMs: number;
  workerId: () => string;
  /** False once the worker drains or stops: the loop ends. */
  isRunning: () => boolean;
  onLeases: (leases: readonly TaskLease[]) => void;
}

export class LeaseLoop {
  private call?: { cancel(): void };
  /** Settles when the loop has ended (resolved), or rejects with what must stop the worker. */
  readonly done: Promise<void>;

  constructor(private readonly o: LeaseLoopOptions) {
    this.done = this.loop();
  }

  /** End the loop: cancel the long-poll in flight and stop waiting for a slot. */
  stop(): void {
    this.call?.cancel();
    this.o.tasks.wakeWaiter();
  }

  private async loop(): Promise<void> {
    const { client, retry, tasks, leaseWaitMs } = this.o;
    const stopped = () => !this.o.isRunning();
    while (this.o.isRunning()) {
      if (tasks.freeSlots() <= 0) {
        await tasks.slotFreed();
        continue;
      }
      let leases: readonly TaskLease[];
      try {
        const res = await retry.run(
          'lease',
          'leasing tasks',
          () => {
            const call = client.lease({ workerId: this.o.workerId(), maxTasks: tasks.freeSlots(), waitMs: leaseWaitMs }, leaseWaitMs + 15_000);
            this.call = call;
            return call.promise.finally(() => (this.call = undefined));
          },
          stopped,
        );
        leases = res.leases;
      } catch (err) {
        if (stopped()) break;
        throw err;
      }
      this.o.onLeases(leases);
    }
  }
}
