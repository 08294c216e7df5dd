/**
 * Per-task epoch records not yet delivered to the coordinator (pure data structure).
 * A heartbeat takes a snapshot; only when it is acknowledged are those records dropped, so a
 * failed beat (coordinator down) re-sends them on the next one.
 */
import type { EpochRecord } from '../science/types.js';

export interface ProgressSnapshotItem {
  taskId: string;
  fencingToken: number;
  /** Last finished epoch (0 before the first). */
  epoch: number;
  records: EpochRecord[];
}

export class ProgressBuffer {
  private readonly tasks = new Map<string, { fencingToken: number; epoch: number; records: EpochRecord[] }>();

  track(taskId: string, fencingToken: number): void {
    if (!this.tasks.has(taskId)) this.tasks.set(taskId, { fencingToken, epoch: 0, records: [] });
  }

  add(taskId: string, record: EpochRecord): void {
    const t = this.tasks.get(taskId);
    if (!t) return;
    t.records.push(record);
    t.epoch = Math.max(t.epoch, record.epoch);
  }

  untrack(taskId: string): void {
    this.tasks.delete(taskId);
  }

  snapshot(): ProgressSnapshotItem[] {
    return [...this.tasks.entries()].map(([taskId, t]) => ({ taskId, fencingToken: t.fencingToken, epoch: t.epoch, records: [...t.records] }));
  }

  /** Drop the records a delivered snapshot carried (records added since stay). */
  acknowledge(snapshot: readonly ProgressSnapshotItem[]): void {
    for (const item of snapshot) {
      const t = this.tasks.get(item.taskId);
      if (t) t.records.splice(0, item.records.length);
    }
  }
}
