/**
 * The worker's retries, all in one place. Every call to the coordinator goes through `run` (calls
 * that must get through) or `once` (the heartbeat, which repeats on its own). `classify`
 * (coordinator-client.ts) says what a failure means; `retryAction` below says what to do about
 * it for each kind of call:
 *
 *   verdict      register   lease          report*                 heartbeat
 *   retry        backoff    backoff        backoff                 wait for the next beat
 *   reregister   give up    re-register    re-register, repeat     re-register
 *   fatal        stop       stop           stop                    stop
 *   fenced       give up    log, backoff   give up                 log
 *   refused      give up    log, backoff   give up                 log
 *
 *   * report: CompleteTask(s), FailTask, checkpoint uploads and downloads.
 *
 * "stop" throws WorkerAuthError (the composition root stops the worker); "give up" throws the
 * call's error to the caller. Backoff stops once `givingUp()` says so (the worker stopped, or
 * its drain deadline passed), so a draining worker can exit while the coordinator is down.
 */
import { describeError } from '../common/errors.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { status } from '@grpc/grpc-js';
import { classify, describeCallError, detailOf, grpcCode, type CallVerdict } from './coordinator-client.js';
import { WorkerAuthError } from './errors.js';

/** Which refusal of the worker's credentials a fatal error is. */
function authStatus(err: unknown): 'UNAUTHENTICATED' | 'PERMISSION_DENIED' {
  return grpcCode(err) === status.PERMISSION_DENIED ? 'PERMISSION_DENIED' : 'UNAUTHENTICATED';
}

export type CallKind = 'register' | 'lease' | 'report' | 'heartbeat';

/** What to do about a failed call (see the table above). */
export type RetryAction = 'backoff' | 'reregister' | 'stop' | 'give-up' | 'log-and-backoff' | 'next-beat' | 'log';

/** The table above, as a pure function. */
export function retryAction(kind: CallKind, verdict: CallVerdict): RetryAction {
  if (verdict === 'fatal') return 'stop';
  switch (kind) {
    case 'register':
      return verdict === 'retry' ? 'backoff' : 'give-up';
    case 'lease':
      return verdict === 'retry' ? 'backoff' : verdict === 'reregister' ? 'reregister' : 'log-and-backoff';
    case 'report':
      return verdict === 'retry' ? 'backoff' : verdict === 'reregister' ? 'reregister' : 'give-up';
    case 'heartbeat':
      return verdict === 'retry' ? 'next-beat' : verdict === 'reregister' ? 'reregister' : 'log';
  }
}

export interface WorkerRetryOptions {
  /** host:port of the coordinator, for log lines and WorkerAuthError. */
  coordinator: string;
  backoff: BackoffPolicy;
  log: (line: string) => void;
  /** Register again (the coordinator lost this worker); concurrent callers share one registration. */
  reregister: () => Promise<void>;
  /** True once backoff must stop: the worker stopped, or its drain deadline passed. */
  givingUp: () => boolean;
  /** Jitter in [0.5, 1] (default: random in [0.75, 1]). */
  jitter?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class WorkerRetry {
  /** Consecutive failed calls (any kind): the backoff grows with it; a success resets it. */
  private failures = 0;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly jitter: () => number;

  constructor(private readonly o: WorkerRetryOptions) {
    this.sleep = o.sleep ?? defaultSleep;
    this.jitter = o.jitter ?? (() => 0.75 + Math.random() * 0.25);
  }

  /**
   * Run `call` until it succeeds; `doing` ("reporting task x") names it in log lines.
   * `givingUp` overrides the worker-wide one (the lease loop ends when the worker stops running).
   */
  async run<T>(kind: Exclude<CallKind, 'heartbeat'>, doing: string, call: () => Promise<T>, givingUp = this.o.givingUp): Promise<T> {
    for (;;) {
      try {
        const res = await call();
        this.reachable();
        return res;
      } catch (err) {
        const action = retryAction(kind, classify(err));
        if (action === 'stop') throw new WorkerAuthError(this.o.coordinator, detailOf(err), authStatus(err));
        if (action === 'give-up' || givingUp()) throw err;
        if (action === 'reregister') {
          await this.o.reregister();
          continue;
        }
        if (action === 'log-and-backoff') this.o.log(`${doing}: refused (${describeCallError(err)}); retrying`);
        await this.wait(err, doing);
      }
    }
  }

  /**
   * One try of a call that repeats on its own (the heartbeat). Resolves to its answer, or to
   * undefined after a failure was handled; throws only WorkerAuthError.
   */
  async once<T>(doing: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      const res = await call();
      this.reachable();
      return res;
    } catch (err) {
      const action = retryAction('heartbeat', classify(err));
      if (action === 'stop') throw new WorkerAuthError(this.o.coordinator, detailOf(err), authStatus(err));
      if (action === 'reregister') {
        if (!this.o.givingUp()) await this.o.reregister().catch((e: unknown) => this.o.log(`re-register failed: ${describeError(e)}`));
      } else if (action === 'log') {
        this.o.log(`${doing} refused (${describeCallError(err)})`);
      }
      // 'next-beat': the coordinator is unreachable; the lease loop logs the outage.
      return undefined;
    }
  }

  /** Record a failure and wait the backoff delay, logging where and why. */
  private async wait(err: unknown, doing: string): Promise<void> {
    this.failures++;
    const delay = backoffDelay(this.failures, this.o.backoff, this.jitter());
    this.o.log(`coordinator at ${this.o.coordinator} unreachable while ${doing} (${describeCallError(err)}); retry ${this.failures} in ${(delay / 1000).toFixed(1)} s`);
    await this.sleep(delay);
  }

  private reachable(): void {
    if (this.failures > 0) this.o.log(`coordinator at ${this.o.coordinator} reachable again after ${this.failures} failed attempt(s)`);
    this.failures = 0;
  }
}
