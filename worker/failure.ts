/**
 * How a trial child ended, turned into what the worker tells the coordinator (pure).
 */
import { NpfError } from '../common/errors.js';

/** Why a trial failed; the label of npf_worker_trial_failures_total{reason}. */
export type FailureReason = 'crash' | 'signal' | 'error' | 'invalid' | 'artifact' | 'drained' | 'no-result';

export interface ChildExit {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The error the child reported over IPC before exiting, if any. */
  childError?: { code: string; message: string; retryable: boolean };
  /** Last lines the child wrote to stderr. */
  stderrTail: string[];
}

export interface FailureVerdict {
  reason: FailureReason;
  retryable: boolean;
  /** One sentence (plus the stderr tail) for FailTask.error. */
  message: string;
}

function withTail(message: string, tail: string[]): string {
  const lines = tail.filter((l) => l.trim() !== '');
  if (lines.length === 0) return message;
  return `${message}; last stderr lines:\n${lines.join('\n')}`;
}

/**
 * A child's own error report wins (it knows whether the failure is deterministic); otherwise
 * a signal or a non-zero exit is a crash, retried because it may be the machine (OOM, node loss),
 * not the trial. Exit code 134 with "heap out of memory" is Node's V8 OOM abort.
 */
export function classifyChildExit(exit: ChildExit): FailureVerdict {
  if (exit.childError) {
    const invalid = exit.childError.code === 'INVALID_INPUT';
    return {
      reason: invalid ? 'invalid' : exit.childError.code === 'ARTIFACT_INTEGRITY' ? 'artifact' : 'error',
      retryable: exit.childError.retryable,
      message: withTail(`trial failed: ${exit.childError.message}`, exit.childError.retryable ? exit.stderrTail : []),
    };
  }
  if (exit.signal) {
    const hint = exit.signal === 'SIGKILL' ? ' (killed: out of memory or stopped by the system?)' : '';
    return { reason: 'signal', retryable: true, message: withTail(`trial process was killed by signal ${exit.signal}${hint}`, exit.stderrTail) };
  }
  if (exit.code !== 0 && exit.code !== null) {
    const oom = exit.stderrTail.some((l) => /heap out of memory|Out of memory|OOM/i.test(l));
    return {
      reason: 'crash',
      retryable: true,
      message: withTail(`trial process crashed with exit code ${exit.code}${oom ? ' (out of memory)' : ''}`, exit.stderrTail),
    };
  }
  return { reason: 'no-result', retryable: true, message: withTail('trial process exited without reporting a result', exit.stderrTail) };
}

/**
 * Whether a trial that threw `err` is worth another attempt. A typed error says so itself
 * (NpfError.retryable: a dataset missing or unreadable on this machine, or a backend it lacks,
 * may be fine on another worker; bad input and corrupt data fail the same way every time).
 * Untyped errors (a bug, a wasm out-of-memory) are retried: the attempt limit bounds them.
 */
export function isRetryable(err: unknown): boolean {
  return err instanceof NpfError ? err.retryable : true;
}
