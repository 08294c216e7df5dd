/**
 * Live updates: Server-Sent Events from the store's event log. The server tails the events table
 * (one timer for every connected browser, a cheap `max(seq)` look while nothing changes; a
 * coordinator also wakes it on each commit) and pushes each new event to the browsers following
 * its sweep. Every message carries the event's store sequence number as its SSE `id`, so a
 * browser that reconnects (EventSource does so by itself) sends `Last-Event-ID` and gets exactly
 * the events it missed. The browser never polls.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidInputError } from '../common/errors.js';
import type { DashboardDataSource } from './data-source.js';
import { eventItem } from './event-items.js';

export interface LiveEventsOptions {
  /** How often the event log is looked at while browsers are connected (default 250 ms). */
  pollMs?: number;
  /** Events read per client per look (default 500; more follow at once). */
  batch?: number;
  /** Comment line sent to idle connections (default 15 s), so proxies keep them open. */
  keepAliveMs?: number;
}

interface Client {
  res: ServerResponse;
  sweepId?: string;
  /** Newest event sent (or skipped over by the sweep filter). */
  cursor: number;
  lastWriteMs: number;
}

/** The resume point of a stream: Last-Event-ID, else `after`, else `now` (only what happens next). */
export function resumePoint(lastEventId: string | undefined, after: string | null, now: number): number {
  const raw = lastEventId ?? after;
  if (raw === undefined || raw === null || raw === '') return now;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidInputError(`event id '${raw}' is not a whole number >= 0`, { lastEventId: raw });
  return n;
}

/** One SSE message. JSON has no raw newlines, so `data` is one line. */
export function sseMessage(id: number, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class LiveEvents {
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | undefined;
  private pending = false;
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly keepAliveMs: number;
  /** The store's newest event at the last look. */
  private seen = -1;

  constructor(
    private readonly source: DashboardDataSource,
    opts: LiveEventsOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 250;
    this.batch = opts.batch ?? 500;
    this.keepAliveMs = opts.keepAliveMs ?? 15_000;
  }

  /** Answer `req` with an event stream of `sweepId` (all sweeps when undefined), from `afterSeq` on. */
  serve(req: IncomingMessage, res: ServerResponse, sweepId: string | undefined, afterSeq: number): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    const client: Client = { res, sweepId, cursor: afterSeq, lastWriteMs: Date.now() };
    this.clients.add(client);
    const drop = (): void => {
      this.clients.delete(client);
      if (this.clients.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
    req.on('close', drop);
    res.on('error', drop);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.pollMs);
      this.timer.unref();
    }
    this.seen = -1;
    this.wake();
  }

  /** Look at the log now (a coordinator calls this after each commit that emitted events). */
  wake(): void {
    if (this.pending || this.clients.size === 0) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      this.tick();
    });
  }

  private tick(): void {
    if (this.clients.size === 0) return;
    let last: number;
    try {
      last = this.source.lastEventSeq();
    } catch {
      return; // the store is busy or gone for a moment: the next look tries again
    }
    const now = Date.now();
    if (last === this.seen) {
      for (const c of this.clients) {
        if (now - c.lastWriteMs >= this.keepAliveMs) {
          c.res.write(': keep-alive\n\n');
          c.lastWriteMs = now;
        }
      }
      return;
    }
    let more = false;
    for (const c of this.clients) {
      if (c.cursor >= last) continue;
      // Up to `last` only: an event committed after the look waits for the next one (never sent twice).
      const events = this.source.events({ sweepId: c.sweepId, afterSeq: c.cursor, beforeSeq: last + 1, limit: this.batch });
      for (const e of events) c.res.write(sseMessage(e.seq, 'npf', eventItem(e)));
      if (events.length >= this.batch) {
        c.cursor = events.at(-1)!.seq;
        more = true;
      } else {
        // Nothing of this sweep up to `last`: skip ahead (ids of skipped events are never needed).
        c.cursor = last;
      }
      if (events.length > 0) c.lastWriteMs = now;
    }
    this.seen = more ? -1 : last;
    if (more) this.wake();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
