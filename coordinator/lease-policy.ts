/**
 * Lease and retry arithmetic: pure functions, the clock passed in as `now` (Unix ms).
 * A lease is renewed by every heartbeat and expires `leaseTtlMs` after the last one; a failed
 * attempt is retried after `retryBackoffMs * 2^(attempt-1)` (capped) while attempts remain.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included (default 3). */
  maxAttempts: number;
  /** Backoff before the 2nd attempt; doubles for each further one (default 1000). */
  retryBackoffMs: number;
  /** Cap on a single backoff (default 60000). */
  maxBackoffMs: number;
}

/** Backoff after failed attempt number `attempt` (1-based): retryBackoffMs * 2^(attempt-1), capped. */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, 'retryBackoffMs' | 'maxBackoffMs'>): number {
  const exp = Math.max(0, attempt - 1);
  // 2^exp overflows to Infinity for huge attempts; Math.min keeps the cap.
  return Math.min(policy.maxBackoffMs, policy.retryBackoffMs * 2 ** exp);
}

/** Whether a lease last renewed so that it expires at `expiresAtMs` is expired at `now`. */
export function isLeaseExpired(expiresAtMs: number, now: number): boolean {
  return now >= expiresAtMs;
}

/** Expiry time of a lease renewed at `now`. */
export function leaseExpiry(now: number, leaseTtlMs: number): number {
  return now + leaseTtlMs;
}

export type FailureDecision =
  | { kind: 'retry'; notBeforeMs: number; backoffMs: number }
  | { kind: 'fail'; reason: string };

/**
 * What to do after attempt number `attempt` (1-based, of the current run) failed.
 * Deterministic failures (retryable=false) are never retried.
 */
export function decideAfterFailure(
  input: { attempt: number; retryable: boolean; error: string; now: number },
  policy: RetryPolicy,
): FailureDecision {
  if (!input.retryable) return { kind: 'fail', reason: input.error };
  if (input.attempt >= policy.maxAttempts) {
    return {
      kind: 'fail',
      reason: `gave up after ${input.attempt} attempt${input.attempt === 1 ? '' : 's'}: ${input.error}`,
    };
  }
  const wait = backoffMs(input.attempt, policy);
  return { kind: 'retry', notBeforeMs: input.now + wait, backoffMs: wait };
}
