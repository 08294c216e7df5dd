/** SQL of `events`: the append-only log of sweep events (seq is the rowid and only grows). */
import type { Db } from './db.js';
import type { EventRow } from './rows.js';

export class EventTable {
  constructor(private readonly db: Db) {}

  /** Append an event; returns its sequence number. */
  append(timeMs: number, sweepId: string, taskId: string, type: string, payloadJson: string): number {
    const r = this.db.run('INSERT INTO events (time_ms, sweep_id, task_id, type, payload_json) VALUES (?, ?, ?, ?, ?)', timeMs, sweepId, taskId, type, payloadJson);
    return Number(r.lastInsertRowid);
  }

  /** A sweep's events with seq > afterSeq, oldest first. */
  ofSweep(sweepId: string, afterSeq: number): EventRow[] {
    return this.db.all<EventRow>('SELECT * FROM events WHERE sweep_id = ? AND seq > ? ORDER BY seq', sweepId, afterSeq);
  }
}
