/**
 * One human line per npf event, shared by `npf watch` (coordinator or NATS source) and logs.
 * Pure: the line depends only on the event (its own `time` is printed, in UTC).
 */
import type { NpfEvent } from './event-schema.js';

export interface FormatEventOptions {
  /** Print the sweep id on each line (useful when following several sweeps). Default false. */
  showSweep?: boolean;
  /** Characters of a task id to print (task ids are sha256 hex). Default 10. */
  taskIdChars?: number;
}

/** 0.9785 -> '97.85%'. */
export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

/** 725_000 -> '12m05s', 3_723_000 -> '1h02m03s', 4_200 -> '4.2s'. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}h${mm}m${ss}s` : `${m}m${ss}s`;
}

function describe(e: NpfEvent): string {
  switch (e.type) {
    case 'task.leased': {
      const p = e.payload;
      return `leased to ${p.workerId} (attempt ${p.attempt})${p.label ? ` ${p.label}` : ''}`;
    }
    case 'task.progress': {
      const p = e.payload;
      const parts = [`epoch ${p.epoch}/${p.epochs}`];
      if (p.testAccuracy !== undefined) parts.push(`test acc ${formatPercent(p.testAccuracy)}`);
      if (p.trainLoss !== undefined) parts.push(`train loss ${p.trainLoss.toFixed(4)}`);
      if (p.examplesPerSec !== undefined) parts.push(`${Math.round(p.examplesPerSec)} ex/s`);
      return parts.join('  ');
    }
    case 'task.succeeded': {
      const p = e.payload;
      const at = p.bestEpoch !== undefined ? ` at epoch ${p.bestEpoch}` : '';
      const took = p.durationMs !== undefined ? ` in ${formatDuration(p.durationMs)}` : '';
      return `${p.diverged ? 'diverged' : 'succeeded'}: best test acc ${formatPercent(p.bestTestAccuracy)}${at}${took} (attempt ${p.attempt})`;
    }
    case 'task.failed':
      return `FAILED (attempt ${e.payload.attempt}): ${e.payload.reason}: ${e.payload.message}`;
    case 'task.retried': {
      const p = e.payload;
      const wait = p.backoffMs !== undefined ? ` in ${formatDuration(p.backoffMs)}` : '';
      return `retry: attempt ${p.attempt} ${p.reason}${p.message ? ` (${p.message})` : ''}; attempt ${p.nextAttempt}${wait}`;
    }
    case 'task.cancelled':
      return `cancelled${e.payload.reason ? `: ${e.payload.reason}` : ''}`;
    case 'sweep.submitted': {
      const p = e.payload;
      return `sweep submitted${p.name ? ` '${p.name}'` : ''}: ${p.tasks} tasks${p.cells !== undefined ? `, ${p.cells} cells` : ''}`;
    }
    case 'sweep.complete': {
      const p = e.payload;
      const took = p.durationMs !== undefined ? ` in ${formatDuration(p.durationMs)}` : '';
      return `sweep complete: ${p.succeeded} succeeded, ${p.failed} failed, ${p.cancelled} cancelled${took}`;
    }
    case 'sweep.cancelled':
      return `sweep cancelled${e.payload.reason ? `: ${e.payload.reason}` : ''}`;
    default: {
      // A newer publisher's event type: still one line.
      const unknown = e as { type: string; payload: unknown };
      return `${unknown.type} ${JSON.stringify(unknown.payload)}`;
    }
  }
}

/**
 * One line, e.g. `11:02:03  task 3fa9c2e1b0  epoch 3/80  test acc 97.12%  train loss 0.1234`
 * or `11:40:00  sweep complete: 30 succeeded, 0 failed, 0 cancelled in 38m20s`.
 */
export function formatEvent(e: NpfEvent, opts: FormatEventOptions = {}): string {
  const time = /T(\d\d:\d\d:\d\d)/.exec(e.time)?.[1] ?? e.time;
  const who = e.taskId !== undefined ? `task ${e.taskId.slice(0, opts.taskIdChars ?? 10)}  ` : '';
  const sweep = opts.showSweep ? `[${e.sweepId}] ` : '';
  return `${time}  ${sweep}${who}${describe(e)}`;
}
