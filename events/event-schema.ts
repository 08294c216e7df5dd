/**
 * The npf event: one per task / sweep state change. The coordinator stores and emits these
 * (WatchSweep streams them with the store's sequence and time), and publishes them on NATS
 * JetStream so that `npf watch` (or any late subscriber) can replay a sweep from its start.
 *
 * Schema version 1 (field `v`). A consumer must ignore unknown payload fields and unknown
 * `type`s of a known version; a breaking change bumps `v`.
 *
 * Subjects (every id is passed through {@link subjectToken}):
 * - `npf.sweep.<sweepId>.task.<taskId>.<event>`, event in
 *   leased | progress | succeeded | failed | retried | cancelled
 * - `npf.sweep.<sweepId>.<event>`, event in submitted | complete | cancelled
 *
 * All of them are captured by the JetStream stream {@link DEFAULT_EVENT_STREAM} (subjects `npf.>`,
 * limits-based retention, 30 days by default). See docs/events.md.
 */
import { z } from 'zod';
import { InvalidInputError } from '../common/errors.js';

/** Current schema version, field `v` of every event. */
export const EVENT_SCHEMA_VERSION = 1 as const;

/** Default JetStream stream that stores every `npf.>` subject. */
export const DEFAULT_EVENT_STREAM = 'NPF_EVENTS';

/** The stream's subject filter. */
export const EVENT_STREAM_SUBJECTS = 'npf.>';

/** Default retention (limits-based: events older than this are discarded). */
export const DEFAULT_EVENT_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

/** Task lifecycle events, the last subject token of a task event. */
export const TASK_EVENTS = ['leased', 'progress', 'succeeded', 'failed', 'retried', 'cancelled'] as const;
export type TaskEventName = (typeof TASK_EVENTS)[number];

/** Sweep lifecycle events, the last subject token of a sweep event. */
export const SWEEP_EVENTS = ['submitted', 'complete', 'cancelled'] as const;
export type SweepEventName = (typeof SWEEP_EVENTS)[number];

/** A task was leased to a worker (attempt is the lease's fencing token, 1-based). */
export interface TaskLeasedPayload {
  workerId: string;
  attempt: number;
  /** GPU device the task runs on (absent: none). */
  gpuIndex?: number;
  /** The bundle it trains in, as one stacked process with the other members (absent: alone). */
  bundleId?: string;
  /** Human label of the trial, e.g. 'fc/sgd/relu seed 2'. */
  label?: string;
}

/** One epoch of a leased task finished (worker progress report). */
export interface TaskProgressPayload {
  attempt: number;
  epoch: number;
  /** Epochs the trial runs in all (its spec's `epochs`). */
  epochs: number;
  /** Fraction in [0, 1]. */
  testAccuracy?: number;
  trainLoss?: number;
  testLoss?: number;
  examplesPerSec?: number;
}

/** The trial finished; `bestTestAccuracy` is the max over epochs (the paper's reported metric). */
export interface TaskSucceededPayload {
  attempt: number;
  /** The worker that reported the result. */
  workerId?: string;
  /** Fraction in [0, 1]. */
  bestTestAccuracy: number;
  bestEpoch?: number;
  /** From the lease to the result. */
  durationMs?: number;
  /** True when training diverged (NaN loss) but the task is terminal anyway. */
  diverged?: boolean;
}

/** The task failed for good (no attempts left, or a non-retryable error). */
export interface TaskFailedPayload {
  attempt: number;
  reason: string;
  message: string;
}

/** An attempt failed or its lease expired; the task goes back to pending for `nextAttempt`. */
export interface TaskRetriedPayload {
  attempt: number;
  nextAttempt: number;
  reason: string;
  message?: string;
  backoffMs?: number;
}

export interface TaskCancelledPayload {
  reason?: string;
}

export interface SweepSubmittedPayload {
  name?: string;
  tasks: number;
  /** Number of table cells (mean +- std groups). */
  cells?: number;
  /** Trials already done in an earlier submission (same task id): they do not run again. */
  alreadyDone?: number;
}

/** Every task of the sweep is terminal. */
export interface SweepCompletePayload {
  succeeded: number;
  failed: number;
  cancelled: number;
  durationMs?: number;
}

export interface SweepCancelledPayload {
  reason?: string;
  /** Tasks by outcome when the sweep was cancelled. */
  succeeded?: number;
  failed?: number;
  cancelled?: number;
}

/** Payload type of each event `type`. */
export interface EventPayloads {
  'task.leased': TaskLeasedPayload;
  'task.progress': TaskProgressPayload;
  'task.succeeded': TaskSucceededPayload;
  'task.failed': TaskFailedPayload;
  'task.retried': TaskRetriedPayload;
  'task.cancelled': TaskCancelledPayload;
  'sweep.submitted': SweepSubmittedPayload;
  'sweep.complete': SweepCompletePayload;
  'sweep.cancelled': SweepCancelledPayload;
}

export type EventType = keyof EventPayloads;
export type TaskEventType = `task.${TaskEventName}`;
export type SweepEventType = `sweep.${SweepEventName}`;

/** Fields the publisher fills in. */
interface EnvelopeFields {
  /** Schema version, {@link EVENT_SCHEMA_VERSION}. */
  v: typeof EVENT_SCHEMA_VERSION;
  /** ISO-8601 UTC time the publisher saw the event. */
  time: string;
  /**
   * Per (publisher process, sweep) sequence number, 1, 2, 3...: a gap seen by a subscriber means
   * events were dropped while NATS was unreachable. A coordinator restart starts again at 1.
   */
  seq: number;
}

type TaskEventOf<T extends TaskEventType> = { type: T; sweepId: string; taskId: string; payload: EventPayloads[T] };
type SweepEventOf<T extends SweepEventType> = { type: T; sweepId: string; taskId?: undefined; payload: EventPayloads[T] };

/** What a caller hands to an event sink (the sink adds v, seq and time). */
export type NpfEventInput =
  | { [T in TaskEventType]: TaskEventOf<T> }[TaskEventType]
  | { [T in SweepEventType]: SweepEventOf<T> }[SweepEventType];

/** One event as stored on the bus: `{ v: 1, type, sweepId, taskId?, time, seq, payload }`. */
export type NpfEvent = NpfEventInput & EnvelopeFields;

/** Anything events can be published to (NATS, a test recorder, a fan-out). Never throws. */
export interface EventSink {
  publish(event: NpfEventInput): void;
  close(): Promise<void>;
}

/** True for the two event families. */
export function isTaskEvent(e: NpfEventInput): e is Extract<NpfEventInput, { type: TaskEventType }> {
  return e.type.startsWith('task.');
}

/**
 * Encode an id as one NATS subject token, losslessly: `[A-Za-z0-9_-]` is kept, every other
 * character (including `.`, `*`, `>`, spaces and `%`) becomes `%XX` per UTF-8 byte, so two
 * different ids never share a token and no id can inject a wildcard or extra token.
 */
export function subjectToken(id: string): string {
  if (id.length === 0) throw new InvalidInputError('event id is empty: a sweep or task id is needed for a NATS subject', { id });
  let out = '';
  for (const ch of id) {
    if (/^[A-Za-z0-9_-]$/.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Inverse of {@link subjectToken}. */
export function parseSubjectToken(token: string): string {
  return decodeURIComponent(token);
}

/** The subject an event is published on. */
export function eventSubject(e: Pick<NpfEventInput, 'type' | 'sweepId' | 'taskId'>): string {
  const sweep = `npf.sweep.${subjectToken(e.sweepId)}`;
  const [family, name] = e.type.split('.') as [string, string];
  if (family === 'task') {
    if (e.taskId === undefined) throw new InvalidInputError(`event '${e.type}' of sweep '${e.sweepId}' has no taskId`, { type: e.type });
    return `${sweep}.task.${subjectToken(e.taskId)}.${name}`;
  }
  return `${sweep}.${name}`;
}

/** Filter subject that captures every event of one sweep: `npf.sweep.<sweepId>.>`. */
export function sweepSubjectFilter(sweepId: string): string {
  return `npf.sweep.${subjectToken(sweepId)}.>`;
}

/** True for the events after which a sweep has no more events (complete or cancelled). */
export function isSweepEnd(e: Pick<NpfEventInput, 'type'>): boolean {
  return e.type === 'sweep.complete' || e.type === 'sweep.cancelled';
}

const ALL_TYPES = [...TASK_EVENTS.map((n) => `task.${n}`), ...SWEEP_EVENTS.map((n) => `sweep.${n}`)] as [string, ...string[]];

const envelopeSchema = z.object({
  v: z.literal(EVENT_SCHEMA_VERSION),
  type: z.enum(ALL_TYPES),
  sweepId: z.string().min(1),
  taskId: z.string().min(1).optional(),
  time: z.string().min(1),
  seq: z.number().int().positive(),
  payload: z.record(z.unknown()),
});

/** A message on the bus is not a valid version-1 npf event. */
export class EventDecodeError extends InvalidInputError {}

/**
 * Decode one message body. Checks the envelope (version, type, ids, seq); payload fields are
 * trusted as written by a v1 publisher (consumers must tolerate extra fields).
 */
export function decodeEvent(data: Uint8Array | string, subject?: string): NpfEvent {
  const where = subject ? ` on '${subject}'` : '';
  let raw: unknown;
  try {
    raw = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
  } catch (err) {
    throw new EventDecodeError(`event${where} is not JSON`, { subject }, { cause: err });
  }
  const parsed = envelopeSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(root)';
    throw new EventDecodeError(`event${where} is not a v${EVENT_SCHEMA_VERSION} npf event: field '${field}': ${issue.message}`, { subject, field });
  }
  const e = parsed.data;
  if (e.type.startsWith('task.') && e.taskId === undefined) {
    throw new EventDecodeError(`event${where} of type '${e.type}' has no taskId`, { subject });
  }
  return e as unknown as NpfEvent;
}

/** Serialise an event for the bus. */
export function encodeEvent(e: NpfEvent): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(e));
}
