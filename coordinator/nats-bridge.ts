/**
 * Maps the coordinator's stored sweep events (SweepEvent, what WatchSweep streams) onto the
 * public NATS event schema (events/event-schema.ts, version 1). Pure: the sink is passed in.
 */
import type { EventSink, NpfEventInput } from '../events/event-schema.js';
import type { SweepEvent } from './sweep-coordinator.js';

const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
const str = (x: unknown): string => (typeof x === 'string' ? x : x === undefined ? '' : JSON.stringify(x));

/** The bus event for one coordinator event, or undefined for none. */
export function toBusEvent(e: SweepEvent): NpfEventInput | undefined {
  const p = e.payload;
  const attempt = num(p.attempt) ?? 0;
  const { sweepId, taskId } = e;
  switch (e.type) {
    case 'sweep_submitted':
      return { type: 'sweep.submitted', sweepId, payload: { name: str(p.name), tasks: num(p.tasks) ?? 0, cells: num(p.cells) } };
    case 'sweep_complete': {
      const counts = (p.counts ?? {}) as Record<string, unknown>;
      if (p.state === 'cancelled') return { type: 'sweep.cancelled', sweepId, payload: {} };
      return {
        type: 'sweep.complete',
        sweepId,
        payload: { succeeded: num(counts.succeeded) ?? 0, failed: num(counts.failed) ?? 0, cancelled: num(counts.cancelled) ?? 0 },
      };
    }
    case 'leased':
      return { type: 'task.leased', sweepId, taskId, payload: { workerId: str(p.workerId), attempt } };
    case 'progress':
      return {
        type: 'task.progress',
        sweepId,
        taskId,
        payload: { attempt, epoch: num(p.epoch) ?? 0, epochs: num(p.epochs) ?? 0, testAccuracy: num(p.testAccuracy), trainLoss: num(p.trainLoss) },
      };
    case 'succeeded':
      return {
        type: 'task.succeeded',
        sweepId,
        taskId,
        payload: { attempt, bestTestAccuracy: num(p.bestTestAccuracy) ?? 0, bestEpoch: num(p.bestEpoch), diverged: p.status === 'diverged' },
      };
    case 'failed':
      return { type: 'task.failed', sweepId, taskId, payload: { attempt, reason: 'failed', message: str(p.error) } };
    case 'retried':
      return {
        type: 'task.retried',
        sweepId,
        taskId,
        payload: { attempt, nextAttempt: attempt + 1, reason: 'retry', message: str(p.error), backoffMs: num(p.backoffMs) },
      };
    case 'cancelled':
      return { type: 'task.cancelled', sweepId, taskId, payload: {} };
  }
}

/** Publish every coordinator event to `sink`; returns the unsubscribe function. */
export function bridgeEvents(onEvent: (l: (e: SweepEvent) => void) => () => void, sink: EventSink): () => void {
  return onEvent((e) => {
    const bus = toBusEvent(e);
    if (bus) sink.publish(bus);
  });
}
