/**
 * The sweep event log: the core emits the typed events of events/event-schema.ts. Each is
 * appended to the store inside the write that caused it (its sequence number is the row's), and
 * listeners (WatchSweep streams, the NATS publisher, `npf run`'s display) hear it only once
 * that write is committed.
 */
import type { EventPayloads, NpfEventInput, SweepEventType, TaskEventType } from '../../events/event-schema.js';
import type { CoordinatorStore } from '../store/coordinator-store.js';
import type { EventRow } from '../store/rows.js';

/** An event as the coordinator stores and streams it: the typed event, its sequence number and time. */
export type SweepEvent = NpfEventInput & {
  /** Position in the coordinator's event log (grows across sweeps). */
  sequence: number;
  /** When it happened, Unix ms (the coordinator's clock). */
  timeMs: number;
};

export class EventLog {
  private readonly listeners = new Set<(e: SweepEvent) => void>();

  constructor(
    private readonly store: CoordinatorStore,
    private readonly now: () => number,
  ) {}

  /** Follow every event after it is committed. Returns the unsubscribe function. */
  onEvent(listener: (e: SweepEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stored events of a sweep with sequence > afterSeq, oldest first. */
  events(sweepId: string, afterSeq = 0): SweepEvent[] {
    return this.store.events.ofSweep(sweepId, afterSeq).map(toEvent);
  }

  /** A task event, once for each sweep the task belongs to (inside the current write). */
  task<T extends TaskEventType>(sweepIds: readonly string[], taskId: string, type: T, payload: EventPayloads[T]): void {
    const json = JSON.stringify(payload);
    for (const sweepId of sweepIds) this.append({ type, sweepId, taskId, payload } as NpfEventInput, json);
  }

  /** A sweep event (inside the current write). */
  sweep<T extends SweepEventType>(sweepId: string, type: T, payload: EventPayloads[T]): void {
    this.append({ type, sweepId, payload } as NpfEventInput, JSON.stringify(payload));
  }

  private append(e: NpfEventInput, payloadJson: string): void {
    const timeMs = this.now();
    const sequence = this.store.events.append(timeMs, e.sweepId, e.taskId ?? '', e.type, payloadJson);
    const ev = { ...e, sequence, timeMs } as SweepEvent;
    this.store.afterCommit(() => {
      for (const l of this.listeners) l(ev);
    });
  }
}

function toEvent(r: EventRow): SweepEvent {
  const base = { type: r.type, sweepId: r.sweep_id, payload: JSON.parse(r.payload_json) as unknown, sequence: r.seq, timeMs: r.time_ms };
  return (r.task_id ? { ...base, taskId: r.task_id } : base) as SweepEvent;
}
