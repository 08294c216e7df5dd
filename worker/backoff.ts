/**
 * Exponential reconnect backoff (pure): delay for the n-th consecutive failure.
 */
export interface BackoffPolicy {
  /** First delay, default 250 ms. */
  initialMs: number;
  /** Cap, default 10 s. */
  maxMs: number;
  /** Growth per failure, default 2. */
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 10_000, factor: 2 };

/**
 * Delay before retry number `failures` (1-based): initial * factor^(failures-1), capped,
 * then scaled by `jitter` in [0.5, 1] (pass 1 for none) so a fleet does not reconnect in step.
 */
export function backoffDelay(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF, jitter = 1): number {
  const n = Math.max(1, Math.floor(failures));
  const raw = policy.initialMs * Math.pow(policy.factor, n - 1);
  const capped = Math.min(policy.maxMs, raw);
  const j = Math.min(1, Math.max(0.5, jitter));
  return Math.round(capped * j);
}
