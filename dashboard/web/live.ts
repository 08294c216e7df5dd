/**
 * Live updates over Server-Sent Events: the server pushes each new event of the store's log.
 * EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed.
 */
import type { EventItem } from '../api-types.js';

function status(text: string, cls: string): void {
  const el = document.getElementById('live');
  if (!el) return;
  el.textContent = text;
  el.className = `live ${cls}`;
}

/** Follow the events of `sweepId` (all sweeps when undefined) after `afterSeq`. Returns the stop function. */
export function follow(sweepId: string | undefined, afterSeq: number, onEvent: (e: EventItem) => void): () => void {
  const q = new URLSearchParams({ after: String(afterSeq) });
  if (sweepId) q.set('sweep', sweepId);
  const source = new EventSource(`/api/stream?${q}`);
  source.addEventListener('open', () => status('live', 'on'));
  source.addEventListener('error', () => status(source.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting', 'off'));
  source.addEventListener('npf', (m) => onEvent(JSON.parse((m as MessageEvent<string>).data) as EventItem));
  return () => source.close();
}
