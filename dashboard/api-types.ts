/**
 * The JSON the dashboard's HTTP API answers, shared by the server (dashboard/*.ts) and the
 * browser code (dashboard/web/). Plain data only: the browser imports these types, nothing else.
 * Accuracies are fractions in [0, 1]; times are Unix milliseconds.
 */

export type TaskStateName = 'blocked' | 'pending' | 'leased' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface SweepSummary {
  sweepId: string;
  name: string;
  fileName: string;
  state: string;
  createdAtMs: number;
  /** Since submission; up to the last event once the sweep is finished. */
  elapsedMs: number;
  /** Estimated time left (null until a trial has finished, 0 when nothing is left). */
  etaMs: number | null;
  counts: Record<TaskStateName, number>;
  total: number;
  /** Trials in a terminal state. */
  done: number;
  cellsTotal: number;
}

export interface SweepsResponse {
  sweeps: SweepSummary[];
  lastEventSeq: number;
}

/** A block of results.md: a table (its cells exactly as in the file) or a line of text. */
export type ResultsBlock =
  | { kind: 'heading'; text: string }
  | { kind: 'table'; head: string[]; align: Array<'left' | 'right'>; rows: Array<{ cells: string[]; paper: boolean }> }
  | { kind: 'text'; text: string };

export interface FigureView {
  name: string;
  title: string;
  /** The vega spec (compiled from the figure's vega-lite spec on the server). */
  vega: unknown;
  /** The field whose legend entries toggle series (null: nothing to toggle). */
  seriesField: string | null;
}

/**
 * Every answer's `lastEventSeq` is the event sequence its data is as of: a view served from the
 * server's cache may be older than the newest event, and the page then asks again.
 */
export interface SweepResponse {
  sweep: SweepSummary;
  /** results.md of the sweep as it stands now, as blocks. */
  results: ResultsBlock[];
  figures: FigureView[];
  /** Why a figure is missing (e.g. too many trials for per-trial curves). */
  figureNotes: string[];
  regimes: string[];
  lastEventSeq: number;
}

export const GRID_SORT_KEYS = ['seq', 'label', 'regime', 'seed', 'state', 'attempt', 'worker', 'backend', 'epoch', 'current', 'best'] as const;
export type GridSortKey = (typeof GRID_SORT_KEYS)[number];

export interface TrialGridItem {
  taskId: string;
  label: string;
  regime: string;
  seed: number;
  state: TaskStateName;
  attempt: number;
  worker: string | null;
  backend: string | null;
  epoch: number;
  epochs: number | null;
  current: number | null;
  best: number | null;
  curve: number[];
  error: string | null;
  parentTaskId: string | null;
}

export interface TrialGridResponse {
  /** Trials in the sweep. */
  total: number;
  /** Trials matching the filters. */
  matched: number;
  offset: number;
  limit: number;
  rows: TrialGridItem[];
  lastEventSeq: number;
}

export interface EpochPoint {
  epoch: number;
  trainLoss: number | null;
  testLoss: number | null;
  testAccuracy: number;
  examplesPerSec: number;
}

export interface TrialLink {
  taskId: string;
  label: string;
  state: TaskStateName;
  checkpoint: string | null;
}

export interface TrialResponse {
  taskId: string;
  label: string;
  key: Record<string, unknown>;
  state: TaskStateName;
  attempt: number;
  tries: number;
  worker: string | null;
  error: string | null;
  backend: string | null;
  bestAccuracy: number | null;
  bestEpoch: number | null;
  epochs: number | null;
  /** Epoch records of the result, or of the attempt in progress. */
  curve: EpochPoint[];
  /** Which attempt the curve belongs to. */
  curveAttempt: number | null;
  /** The curves drawn (test accuracy, losses, examples/s); null before the first epoch. */
  figure: FigureView | null;
  attempts: Array<{ attempt: number; workerId: string; startedAtMs: number; endedAtMs: number | null; outcome: string; error: string | null }>;
  checkpoints: Array<{ name: string; sha256: string; size: number; epoch: number; attempt: number; testAccuracy: number | null }>;
  /** The resolved TrialSpec as stored. */
  spec: unknown;
  parent: (TrialLink & { sha256: string | null }) | null;
  dependants: TrialLink[];
  sweeps: Array<{ sweepId: string; name: string }>;
  lastEventSeq: number;
}

export interface EventItem {
  seq: number;
  time: string;
  type: string;
  sweepId: string;
  taskId: string | null;
  /** One human line (events/format-event.ts). */
  text: string;
}

export interface EventsResponse {
  events: EventItem[];
  lastEventSeq: number;
}

/** The event types a log can be filtered by (events/event-schema.ts). */
export const EVENT_TYPES = [
  'sweep.submitted',
  'task.leased',
  'task.progress',
  'task.succeeded',
  'task.failed',
  'task.retried',
  'task.cancelled',
  'sweep.complete',
  'sweep.cancelled',
] as const;
