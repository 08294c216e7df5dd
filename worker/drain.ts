/**
 * Drain (SIGTERM): stop leasing, tell the coordinator, give running trials `graceMs` to finish,
 * then stop the rest and hand them back as retryable (the task pipeline reports a drained task
 * that way). Resolves once every task has left the worker.
 */
import type { ActiveTasks } from './active-tasks.js';
import { DRAIN_STEP_MS } from './drain-budget.js';

export interface DrainSteps {
  tasks: ActiveTasks;
  /** How long running trials may go on. */
  graceMs: number;
  /** Between a child's SIGTERM and its SIGKILL. */
  killGraceMs: number;
  /** Stop the lease loop; resolves once it has ended. */
  stopLeasing: () => Promise<void>;
  /** A heartbeat now, saying the worker drains (so the coordinator leases it nothing more). */
  tellCoordinator: () => Promise<void>;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Stop every task's trial now; each is handed back as retryable. */
export function handBackAll(tasks: ActiveTasks, killGraceMs: number): void {
  for (const t of tasks.all()) {
    t.drained = true;
    void t.proc?.stop(killGraceMs);
  }
}

export async function drainTasks(s: DrainSteps): Promise<void> {
  await Promise.race([s.stopLeasing(), sleep(DRAIN_STEP_MS.stopLeasing)]);
  const running = s.tasks.all();
  s.log(`draining: no new tasks; ${running.length} trial(s) running, ${Math.round(s.graceMs / 1000)} s to finish`);
  await Promise.race([s.tellCoordinator(), sleep(DRAIN_STEP_MS.heartbeat)]);
  const all = Promise.all(running.map((t) => t.done));
  const timedOut = await Promise.race([all.then(() => false), sleep(s.graceMs).then(() => true)]);
  if (!timedOut) return;
  const left = s.tasks.all();
  s.log(`drain grace over: stopping ${left.length} trial(s) and handing them back`);
  handBackAll(s.tasks, s.killGraceMs);
  await Promise.all(left.map((t) => t.done));
}
