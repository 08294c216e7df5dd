/**
 * What `npf status <sweep>` and `npf run`'s live display show about each trial, folded from the
 * sweep's events (pure: the same events give the same board, from a local directory or a
 * coordinator), and the table they render: label, state, attempt, worker, epoch k/of, best
 * accuracy, ETA. Lines are cut to the terminal's width, so a redrawn block never wraps.
 */
import type { PrintableEvent } from '../events/format-event.js';
import { formatDuration, formatPercent, sanitizeForTerminal } from '../events/format-event.js';

/** A trial as the sweep's expansion knows it. */
export interface TrialInfo {
  taskId: string;
  /** 'dnpfl fc adam 0.0003 seed 2' (coordinator/results/trial-label.ts). */
  label: string;
  /** Epochs the trial runs, when known. */
  epochs?: number;
}

export type TrialBoardState = 'pending' | 'leased' | 'running' | 'retrying' | 'succeeded' | 'diverged' | 'failed' | 'cancelled';

export interface TrialRow {
  taskId: string;
  label: string;
  state: TrialBoardState;
  /** Attempt of the latest lease (0: never leased). */
  attempt: number;
  workerId?: string;
  /** Epochs finished in the current (or last) attempt. */
  epochsDone: number;
  epochs?: number;
  bestAccuracy?: number;
  /** When the current attempt was leased, and when its latest epoch ended (event times, ms). */
  startedMs?: number;
  lastEpochMs?: number;
  /** Epoch a resumed attempt started after (its first reported epoch - 1): earlier epochs took no time in this attempt. */
  resumedAfter: number;
  /** Wall time of a finished trial. */
  durationMs?: number;
}

const FINISHED: ReadonlySet<TrialBoardState> = new Set(['succeeded', 'diverged', 'failed', 'cancelled']);

export function isFinished(state: TrialBoardState): boolean {
  return FINISHED.has(state);
}

/** A fresh board: every trial pending. */
export function newBoard(trials: readonly TrialInfo[]): Map<string, TrialRow> {
  return new Map(trials.map((t) => [t.taskId, { taskId: t.taskId, label: t.label, state: 'pending', attempt: 0, epochsDone: 0, resumedAfter: 0, ...(t.epochs ? { epochs: t.epochs } : {}) }]));
}

const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

/** Apply one event to the board (a task the board does not know is added under its short id). */
export function applyEvent(board: Map<string, TrialRow>, e: PrintableEvent): void {
  if (e.taskId === undefined) return;
  let row = board.get(e.taskId);
  if (!row) {
    row = { taskId: e.taskId, label: e.taskId.slice(0, 12), state: 'pending', attempt: 0, epochsDone: 0, resumedAfter: 0 };
    board.set(e.taskId, row);
  }
  const at = e.timeMs ?? (e.time ? Date.parse(e.time) : undefined);
  const p = e.payload as Record<string, unknown>;
  switch (e.type) {
    case 'task.leased':
      Object.assign(row, { state: 'leased', attempt: num(p.attempt) ?? row.attempt + 1, workerId: typeof p.workerId === 'string' ? p.workerId : undefined, epochsDone: 0, resumedAfter: 0, startedMs: at, lastEpochMs: undefined });
      break;
    case 'task.progress': {
      const epoch = num(p.epoch) ?? row.epochsDone;
      // The attempt's first epoch: a resumed attempt starts after its resume state's epoch.
      if (row.lastEpochMs === undefined) row.resumedAfter = Math.max(0, epoch - 1);
      row.state = 'running';
      row.epochsDone = Math.max(row.epochsDone, epoch);
      if (num(p.epochs)) row.epochs = num(p.epochs);
      const acc = num(p.testAccuracy);
      if (acc !== undefined) row.bestAccuracy = Math.max(row.bestAccuracy ?? 0, acc);
      row.lastEpochMs = at;
      break;
    }
    case 'task.succeeded':
      row.state = p.diverged ? 'diverged' : 'succeeded';
      row.bestAccuracy = num(p.bestTestAccuracy) ?? row.bestAccuracy;
      row.durationMs = num(p.durationMs) ?? (at !== undefined && row.startedMs !== undefined ? at - row.startedMs : undefined);
      if (row.epochs) row.epochsDone = row.epochs;
      break;
    case 'task.retried':
      row.state = 'retrying';
      break;
    case 'task.failed':
      row.state = 'failed';
      break;
    case 'task.cancelled':
      row.state = 'cancelled';
      break;
  }
}

/** Time left of a running trial: its mean epoch time so far x epochs left; undefined before its first epoch. */
export function trialEtaMs(row: TrialRow): number | undefined {
  if (isFinished(row.state) || !row.epochs || row.startedMs === undefined || row.lastEpochMs === undefined) return undefined;
  const ran = row.epochsDone - row.resumedAfter;
  if (ran <= 0) return undefined;
  const perEpoch = (row.lastEpochMs - row.startedMs) / ran;
  return Math.max(0, perEpoch * (row.epochs - row.epochsDone));
}

/**
 * Time left of the whole sweep: trials not finished x the mean wall time of those finished, over
 * the trials running at once (at least one); the running ones count for what they have left.
 * Undefined until a trial has finished.
 */
export function sweepEtaMs(rows: readonly TrialRow[]): number | undefined {
  const done = rows.filter((r) => r.state === 'succeeded' || r.state === 'diverged').map((r) => r.durationMs).filter((d): d is number => d !== undefined);
  if (done.length === 0) return undefined;
  const mean = done.reduce((a, b) => a + b, 0) / done.length;
  const running = rows.filter((r) => r.state === 'running' || r.state === 'leased');
  const waiting = rows.filter((r) => r.state === 'pending' || r.state === 'retrying').length;
  const runningLeft = running.reduce((s, r) => s + (trialEtaMs(r) ?? mean), 0);
  return (runningLeft + waiting * mean) / Math.max(1, running.length);
}

/** 'epoch 2/5' for the epoch in progress (never 'epoch 0'), 'epochs 5/5' once finished. */
export function epochText(row: TrialRow): string {
  const of = row.epochs ? `/${row.epochs}` : '';
  if (row.state === 'leased' || row.state === 'running') return `epoch ${Math.min(row.epochsDone + 1, row.epochs ?? Infinity)}${of}`;
  if (row.epochsDone === 0) return '';
  return `${row.epochsDone}${of} epochs`;
}

/** Cut a line to `width` columns (one character per column: the table is ASCII apart from labels). */
export function fitWidth(line: string, width: number | undefined): string {
  if (!width || width < 8 || line.length <= width) return line;
  return `${line.slice(0, width - 1)}~`;
}

export interface StatusTableOptions {
  /** Terminal columns (undefined: no limit, e.g. a pipe). */
  width?: number;
  /** Running trials first, then the rest in sweep order (default: sweep order). */
  runningFirst?: boolean;
  /** At most this many rows (the rest summed up in one line). */
  maxRows?: number;
}

const ORDER: Record<TrialBoardState, number> = { running: 0, leased: 1, retrying: 2, pending: 3, failed: 4, diverged: 5, succeeded: 6, cancelled: 7 };

/** The trials table: a header and one line per trial, cut to the width. Pure. */
export function renderTrialTable(rows: readonly TrialRow[], opts: StatusTableOptions = {}): string[] {
  const sorted = opts.runningFirst ? [...rows].sort((a, b) => ORDER[a.state] - ORDER[b.state]) : [...rows];
  const shown = opts.maxRows !== undefined && sorted.length > opts.maxRows ? sorted.slice(0, Math.max(0, opts.maxRows - 1)) : sorted;
  const cells = shown.map((r) => {
    const eta = trialEtaMs(r);
    return [
      sanitizeForTerminal(r.label),
      r.state,
      r.attempt > 0 ? String(r.attempt) : '',
      sanitizeForTerminal(r.workerId ?? ''),
      epochText(r),
      r.bestAccuracy !== undefined ? formatPercent(r.bestAccuracy) : '',
      eta !== undefined ? formatDuration(eta) : r.durationMs !== undefined && isFinished(r.state) ? `took ${formatDuration(r.durationMs)}` : '',
    ];
  });
  const header = ['trial', 'state', 'try', 'worker', 'epoch', 'best acc', 'eta'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => fitWidth(c.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd(), opts.width);
  const out = [line(header), ...cells.map(line)];
  if (shown.length < sorted.length) out.push(fitWidth(`... and ${sorted.length - shown.length} more trial(s)`, opts.width));
  return out;
}

/**
 * The warning to show when trials wait and nothing runs them. `writer` is what the caller knows
 * of the process that leases trials: 'none' (a local directory nobody runs: no npf run, no
 * coordinator), or 'unknown' (a coordinator: which workers it has is not asked).
 */
export function idleWarning(rows: readonly TrialRow[], sweepState: string, writer: 'none' | 'unknown'): string | undefined {
  if (sweepState !== 'running') return undefined;
  const waiting = rows.filter((r) => r.state === 'pending' || r.state === 'retrying').length;
  const running = rows.filter((r) => r.state === 'running' || r.state === 'leased').length;
  if (writer === 'none' && waiting + running > 0) return `no worker is connected: nothing runs this directory (no npf run, no coordinator); ${waiting + running} trial(s) wait: run the same npf run command to resume`;
  if (waiting > 0 && running === 0) return `no worker is connected: no trial is running though ${waiting} wait (start one: npf worker --coordinator HOST:PORT)`;
  return undefined;
}
