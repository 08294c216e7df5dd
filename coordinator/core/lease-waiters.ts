/**
 * Long polls waiting for work (LeaseTasks with wait_ms), by worker. A poll is woken when a task
 * becomes pending (all polls), when a lease of its worker ends (its resources freed), or at the
 * earliest end of a retry backoff. Wake-ups are counted so that a lease attempt can tell whether
 * one landed while it was committing (and retry instead of sleeping through it).
 */
export class LeaseWaiters {
  private readonly waiters = new Map<string, Set<() => void>>();
  private wakeAll = 0;
  private readonly wakesByWorker = new Map<string, number>();

  /** Wake-ups seen by `workerId` so far (compare before and after a lease attempt). */
  wakesOf(workerId: string): number {
    return this.wakeAll + (this.wakesByWorker.get(workerId) ?? 0);
  }

  /** Wake the long polls of one worker (its resources freed), or of all (a task became ready). */
  wake(workerId?: string): void {
    if (workerId) this.wakesByWorker.set(workerId, (this.wakesByWorker.get(workerId) ?? 0) + 1);
    else this.wakeAll++;
    const sets = workerId ? [this.waiters.get(workerId)] : [...this.waiters.values()];
    for (const set of sets) if (set) for (const w of [...set]) w();
  }

  /** Resolve after `ms`, on a wake-up of this worker (or of all), or when `signal` aborts. */
  wait(workerId: string, ms: number, signal?: AbortSignal): Promise<void> {
    let set = this.waiters.get(workerId);
    if (!set) {
      set = new Set();
      this.waiters.set(workerId, set);
    }
    const waiters = set;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiters.get(workerId) === waiters) this.waiters.delete(workerId);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
