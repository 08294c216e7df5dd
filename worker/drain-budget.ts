/**
 * How long a worker's drain (SIGTERM -> exit: `Worker.drain` in main.ts, `drainTasks` in
 * drain.ts) can take, and the drain grace that fits a termination grace period (Kubernetes'
 * terminationGracePeriodSeconds, after which the kubelet SIGKILLs the pod) with a margin.
 *
 * The drain path, each step bounded:
 *  1. stop leasing: cancel the LeaseTasks long poll, wait for the lease loop    <= 1 s
 *  2. one heartbeat telling the coordinator the worker is draining             <= 2 s
 *  3. running trials go on                                                     <= drain grace
 *  4. trials still running get SIGTERM, then SIGKILL after the kill grace      <= kill grace (3 s)
 *  5. each is handed back (FailTask, retryable; concurrently): one call, with   <= 10 s
 *     its 10 s deadline, and no retry once the drain deadline has passed
 *  6. close the HTTP server and the gRPC channel                               (milliseconds)
 * So with the old defaults (grace 25 s, kill 3 s) the path is 1 + 2 + 25 + 3 + 10 = 41 s, past a
 * 30 s termination grace period. A trial that finishes during step 3 uploads its checkpoints
 * and reports as usual; if that is still going at the kubelet's SIGKILL, its lease expires and
 * the trial is retried elsewhere.
 */
import { InvalidInputError } from '../common/errors.js';

/** Fixed steps of the drain path (1, 2 and 5 above), in ms. */
export const DRAIN_STEP_MS = { stopLeasing: 1_000, heartbeat: 2_000, handBack: 10_000 } as const;
/** Between a trial child's SIGTERM and its SIGKILL (step 4), unless configured. */
export const DEFAULT_KILL_GRACE_MS = 3_000;
/** Kept free between the end of the drain path and the kubelet's SIGKILL. */
export const DRAIN_MARGIN_MS = 5_000;

/** Longest time from SIGTERM to exit for a drain grace and a kill grace (steps 1-5). */
export function drainPathMs(drainGraceMs: number, killGraceMs = DEFAULT_KILL_GRACE_MS): number {
  return DRAIN_STEP_MS.stopLeasing + DRAIN_STEP_MS.heartbeat + drainGraceMs + killGraceMs + DRAIN_STEP_MS.handBack;
}

/** The longest drain grace whose drain path plus the margin fits in `terminationGraceMs`. */
export function drainGraceFor(terminationGraceMs: number, killGraceMs = DEFAULT_KILL_GRACE_MS, marginMs = DRAIN_MARGIN_MS): number {
  return terminationGraceMs - marginMs - drainPathMs(0, killGraceMs);
}

/** Shortest termination grace (whole seconds) for a drain grace: the path plus the margin. */
export function minTerminationGraceS(drainGraceMs: number, killGraceMs = DEFAULT_KILL_GRACE_MS, marginMs = DRAIN_MARGIN_MS): number {
  return Math.ceil((drainPathMs(drainGraceMs, killGraceMs) + marginMs) / 1000);
}

/**
 * The drain grace from the worker's flags: `--drain-grace-s` as given, or derived from
 * `--termination-grace-s` (the pod's grace period), or both checked against each other.
 * Undefined when neither is given (the worker's default applies). Times in ms.
 */
export function resolveDrainGraceMs(o: { drainGraceMs?: number; terminationGraceMs?: number; killGraceMs?: number }): number | undefined {
  const kill = o.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  if (o.terminationGraceMs === undefined) return o.drainGraceMs;
  const fits = drainGraceFor(o.terminationGraceMs, kill);
  const fixedS = Math.ceil((drainPathMs(0, kill) + DRAIN_MARGIN_MS) / 1000);
  if (o.drainGraceMs === undefined) {
    if (fits < 1000) {
      throw new InvalidInputError(
        `--termination-grace-s ${o.terminationGraceMs / 1000}: too short to drain: stopping, handing back and the margin take ${fixedS} s besides the drain grace; give at least ${fixedS + 1}`,
        { terminationGraceMs: o.terminationGraceMs },
      );
    }
    return fits;
  }
  if (o.drainGraceMs > fits) {
    throw new InvalidInputError(
      `--drain-grace-s ${o.drainGraceMs / 1000} does not fit --termination-grace-s ${o.terminationGraceMs / 1000}: the drain can take ${drainPathMs(o.drainGraceMs, kill) / 1000} s plus a ${DRAIN_MARGIN_MS / 1000} s margin; give a termination grace of at least ${minTerminationGraceS(o.drainGraceMs, kill)} s or drop --drain-grace-s`,
      { drainGraceMs: o.drainGraceMs, terminationGraceMs: o.terminationGraceMs },
    );
  }
  return o.drainGraceMs;
}
