/**
 * The sweep event log: every event is appended to the store inside the write that caused it,
 * and listeners (WatchSweep streams, the NATS publisher, `npf run`'s display) hear it only once
 * that write is committed.
 */
import type { CoordinatorStore } from '../store/coordinator-store.js';
import type { EventRow } from '../store/rows.js';

/** A sweep event, as stored and as streamed by WatchSweep. */
export interface SweepEvent {
  sequence: number;
  timeMs: number;
  sweepId: string;
  taskId: string;
  type: 'sweep_submitted' | 'leased' | 'progress' | 'succeeded' | 'failed' | 'retried' | 'cancelled' | 'sweep_complete';
  payload: Record<string, unknown>;
}

export type EventType = SweepEvent['type'];

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

  /** Append one event per sweep (inside the current write); listeners hear it after the commit. */
  emit(sweepIds: readonly string[], taskId: string, type: EventType, payload: Record<string, unknown>): void {
    const now = this.now();
    const json = JSON.stringify(payload);
    for (const sweepId of sweepIds) {
      const sequence = this.store.events.append(now, sweepId, taskId, type, json);
      const ev: SweepEvent = { sequence, timeMs: now, sweepId, taskId, type, payload };
      this.store.afterCommit(() => {
        for (const l of this.listeners) l(ev);
      });
    }
  }
}

function toEvent(r: EventRow): SweepEvent {
  return {
    sequence: r.seq,
    timeMs: r.time_ms,
    sweepId: r.sweep_id,
    taskId: r.task_id,
    type: r.type as EventType,
    payload: JSON.parse(r.payload_json) as Record<string, unknown>,
  };
}
