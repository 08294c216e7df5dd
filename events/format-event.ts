/**
 * THE human line of an npf event, shared by `npf watch` (from the coordinator or from NATS),
 * `npf run`'s log and the coordinator's own. Pure: the line depends only on the event and the
 * options (the event's own time is printed, in UTC).
 */
import type { NpfEventInput } from './event-schema.js';

/**
 * An event to print: the typed event with its time, as the bus carries it (`time`, ISO-8601) or
 * as the coordinator stores it (`timeMs`).
 */
export type PrintableEvent = NpfEventInput & { time?: string; timeMs?: number };

export interface FormatEventOptions {
  /** Print the sweep id on each line (useful when following several sweeps). Default false. */
  showSweep?: boolean;
  /** Characters of a task id to print (task ids are sha256 hex). Default 10. */
  taskIdChars?: number;
  /** Name the task by this label (e.g. 'relu fc adam 0.001 seed 0') instead of its id. */
  label?: string;
  /** Start the line with the event's time. Default true. */
  time?: boolean;
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

const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** A failure message can end with the trial's stderr lines: the event's line shows its first. */
const firstLine = (text: string): string => text.split('\n')[0];

function describe(e: NpfEventInput): string {
  switch (e.type) {
    case 'task.leased': {
      const p = e.payload;
      const gpu = isNumber(p.gpuIndex) ? ` on gpu ${p.gpuIndex}` : '';
      const bundle = typeof p.bundleId === 'string' && p.bundleId ? ` in bundle ${p.bundleId.slice(0, 12)}` : '';
      return `leased to ${p.workerId} (attempt ${p.attempt})${gpu}${bundle}${p.label ? ` ${p.label}` : ''}`;
    }
    case 'task.progress': {
      const p = e.payload;
      const parts = [p.epochs > 0 ? `epoch ${p.epoch}/${p.epochs}` : `epoch ${p.epoch}`];
      if (isNumber(p.testAccuracy)) parts.push(`test acc ${formatPercent(p.testAccuracy)}`);
      if (isNumber(p.trainLoss)) parts.push(`train loss ${p.trainLoss.toFixed(4)}`);
      if (isNumber(p.examplesPerSec)) parts.push(`${Math.round(p.examplesPerSec)} ex/s`);
      return parts.join('  ');
    }
    case 'task.succeeded': {
      const p = e.payload;
      const at = p.bestEpoch !== undefined ? ` at epoch ${p.bestEpoch}` : '';
      const took = p.durationMs !== undefined ? ` in ${formatDuration(p.durationMs)}` : '';
      return `${p.diverged ? 'diverged' : 'succeeded'}: best test acc ${formatPercent(p.bestTestAccuracy)}${at}${took} (attempt ${p.attempt})`;
    }
    case 'task.failed':
      return `FAILED (attempt ${e.payload.attempt}): ${e.payload.reason}: ${firstLine(e.payload.message)}`;
    case 'task.retried': {
      const p = e.payload;
      const wait = isNumber(p.backoffMs) ? ` in ${formatDuration(p.backoffMs)}` : '';
      return `retry: attempt ${p.attempt} ${p.reason}${p.message ? ` (${firstLine(p.message)})` : ''}; attempt ${p.nextAttempt}${wait}`;
    }
    case 'task.cancelled':
      return `cancelled${e.payload.reason ? `: ${e.payload.reason}` : ''}`;
    case 'sweep.submitted': {
      const p = e.payload;
      const done = isNumber(p.alreadyDone) && p.alreadyDone > 0 ? `, ${p.alreadyDone} already done` : '';
      return `sweep submitted${p.name ? ` '${p.name}'` : ''}: ${p.tasks} tasks${p.cells !== undefined ? `, ${p.cells} cells` : ''}${done}`;
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

/** HH:MM:SS (UTC) of an event, from `time` or `timeMs`. */
function clock(e: PrintableEvent): string {
  const iso = e.time ?? (e.timeMs !== undefined ? new Date(e.timeMs).toISOString() : '');
  return /T(\d\d:\d\d:\d\d)/.exec(iso)?.[1] ?? iso;
}

/**
 * One line, e.g. `11:02:03  task 3fa9c2e1b0  epoch 3/80  test acc 97.12%  train loss 0.1234`
 * or `11:40:00  sweep complete: 30 succeeded, 0 failed, 0 cancelled in 38m20s`.
 */
export function formatEvent(e: PrintableEvent, opts: FormatEventOptions = {}): string {
  const time = opts.time === false ? '' : `${clock(e)}  `;
  const who = opts.label !== undefined ? `${opts.label}  ` : e.taskId !== undefined ? `task ${e.taskId.slice(0, opts.taskIdChars ?? 10)}  ` : '';
  const sweep = opts.showSweep ? `[${e.sweepId}] ` : '';
  return sanitizeForTerminal(`${time}${sweep}${who}${describe(e)}`);
}

/**
 * Text from elsewhere (a worker's error, a label, a sweep name) made safe to print on a terminal:
 * line breaks and tabs become spaces (one event, one line: no faked second line), every other
 * control character (C0, DEL, C1: escape sequences that move the cursor or retitle the
 * terminal) is removed.
 */
export function sanitizeForTerminal(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\r\n\t\v\f]/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}
