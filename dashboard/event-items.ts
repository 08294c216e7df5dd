/** Pure: a typed event as one line of the dashboard's event log (the shared formatter of events/). */
import { formatEvent } from '../events/format-event.js';
import type { EventItem } from './api-types.js';
import type { DashboardEvent } from './data-source.js';

export function eventItem(e: DashboardEvent): EventItem {
  // The log has its own time column.
  const text = formatEvent(e, { time: false });
  return { seq: e.seq, time: e.time, type: e.type, sweepId: e.sweepId, taskId: e.taskId ?? null, text };
}
