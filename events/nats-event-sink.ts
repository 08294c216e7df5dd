/**
 * Publisher of npf events to NATS JetStream (subjects and payloads: event-schema.ts).
 *
 * The sweep never waits for NATS: `publish()` only appends to a bounded in-memory buffer and
 * returns; one pump publishes the buffer in order, awaiting each JetStream ack (so the stream
 * holds events in publish order). While NATS is unreachable the pump pauses, events stay in the
 * buffer (oldest dropped beyond `bufferSize`, counted in npf_nats_events_dropped_total), and
 * nats.js reconnects forever (maxReconnectAttempts -1); on reconnect the stream is re-ensured
 * and the buffer flushed. Each publish carries a Nats-Msg-Id, so a retry after a lost ack is
 * stored once (JetStream duplicate window).
 *
 * Start-up policy (documented in docs/events.md):
 * - a malformed URL is always one clear error (NatsUrlError);
 * - `required: true`: an unreachable server (or no JetStream there) rejects with NatsUnavailableError;
 * - `required: false` (default): a warning is logged and the sink keeps retrying in the
 *   background every `reconnectTimeWaitMs`, buffering meanwhile; the sweep runs regardless.
 */
import { randomUUID } from 'node:crypto';
import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import { Counter, type Registry } from 'prom-client';
import { describeError } from '../common/errors.js';
import { BoundedEventBuffer } from './event-buffer.js';
import { DEFAULT_EVENT_MAX_AGE_MS, DEFAULT_EVENT_STREAM, EVENT_SCHEMA_VERSION, encodeEvent, eventSubject, subjectToken, type EventSink, type NpfEvent, type NpfEventInput } from './event-schema.js';
import { ensureEventStream } from './event-stream.js';
import { NatsUnavailableError } from './errors.js';
import { resolveNatsServers } from './nats-url.js';

export interface NatsEventSinkOptions {
  /** NATS server URL(s), e.g. 'nats://127.0.0.1:4222' (comma-separated for several). */
  url: string;
  /** JetStream stream name, default 'NPF_EVENTS'. */
  stream?: string;
  /** Fail start-up when NATS is unreachable (default false: warn, buffer and retry). */
  required?: boolean;
  /** Maximum buffered (unpublished) events; beyond it the oldest are dropped. Default 10000. */
  bufferSize?: number;
  /** Wait between reconnect attempts, default 2000 ms. */
  reconnectTimeWaitMs?: number;
  /** Per-publish ack timeout, default 5000 ms. */
  publishTimeoutMs?: number;
  /** How long close() waits for the buffer to flush, default 5000 ms. */
  closeTimeoutMs?: number;
  /** Stream retention (max age), default 30 days. */
  maxAgeMs?: number;
  /** Stream byte limit (max_bytes), default DEFAULT_EVENT_STREAM_MAX_BYTES (1 GiB); -1: none. */
  maxBytes?: number;
  /** Authentication token, for a server with `authorization { token: ... }`. */
  token?: string;
  /** Metrics npf_nats_disconnects_total and npf_nats_events_dropped_total go here (never the global registry). */
  registry?: Registry;
  /** One line per connection state change. Default: stderr. */
  log?: (line: string) => void;
  /** Clock, default Date.now. */
  now?: () => number;
}

/** Counters of a sink, for tests and status output. */
export interface NatsEventSinkStats {
  connected: boolean;
  published: number;
  dropped: number;
  buffered: number;
  disconnects: number;
}

export interface NatsEventSink extends EventSink {
  /** Never throws, never blocks: appends to the buffer (sink adds v, time and seq). */
  publish(event: NpfEventInput): void;
  /** Flush what can be flushed within closeTimeoutMs, count the rest as dropped, close the connection. */
  close(): Promise<void>;
  stats(): NatsEventSinkStats;
  /** Resolves once the buffer is empty and nothing is in flight (or the sink is closed). */
  flushed(): Promise<void>;
}

interface Pending {
  event: NpfEvent;
  subject: string;
  data: Uint8Array;
  msgId: string;
  failures: number;
}

/** A gap: NATS unreachable since `since` (a disconnect, or the first connect failing). */
interface Gap {
  since: number;
  droppedAtStart: number;
  kind: 'disconnect' | 'initial';
  /** Set on reconnect: events published since then are counted as the flushed backlog. */
  reconnectedAt?: number;
  publishedAtReconnect?: number;
}

function counter(registry: Registry | undefined, name: string, help: string): Counter {
  const existing = registry?.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, registers: registry ? [registry] : [] });
}

/** Failures after which one event is given up on although NATS is connected (e.g. too large). */
const MAX_FAILURES_WHILE_CONNECTED = 5;

/**
 * Connect to NATS, create/update the events stream, and return a sink. See the file comment for
 * the start-up policy; publish() never throws.
 */
export async function createNatsEventSink(opts: NatsEventSinkOptions): Promise<NatsEventSink> {
  const servers = resolveNatsServers(opts.url);
  const url = servers.join(',');
  const streamName = opts.stream ?? DEFAULT_EVENT_STREAM;
  const reconnectTimeWait = opts.reconnectTimeWaitMs ?? 2000;
  const publishTimeout = opts.publishTimeoutMs ?? 5000;
  const closeTimeout = opts.closeTimeoutMs ?? 5000;
  const maxAgeMs = opts.maxAgeMs ?? DEFAULT_EVENT_MAX_AGE_MS;
  const maxBytes = opts.maxBytes;
  const log = opts.log ?? ((line: string) => console.error(line));
  const now = opts.now ?? Date.now;
  const buffer = new BoundedEventBuffer<Pending>(opts.bufferSize ?? 10_000);
  const disconnectsTotal = counter(opts.registry, 'npf_nats_disconnects_total', 'Times the NATS event publisher lost its server connection.');
  const droppedTotal = counter(opts.registry, 'npf_nats_events_dropped_total', 'Events never published to NATS (buffer overflow while disconnected, unencodable, or unflushed at close).');

  const publisherId = randomUUID().slice(0, 8);
  const seqBySweep = new Map<string, number>();
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let connected = false;
  let closing = false;
  let closed = false;
  let pumping = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let published = 0;
  let dropped = 0;
  let disconnects = 0;
  let gap: Gap | undefined;
  let flushWaiters: Array<() => void> = [];

  const drop = (n: number): void => {
    if (n <= 0) return;
    dropped += n;
    droppedTotal.inc(n);
  };

  const settleFlushWaiters = (): void => {
    if (buffer.size === 0 && !pumping) {
      const waiters = flushWaiters;
      flushWaiters = [];
      for (const w of waiters) w();
    }
  };

  const finishGapIfDrained = (): void => {
    if (!gap || gap.reconnectedAt === undefined || buffer.size > 0) return;
    const secs = ((gap.reconnectedAt - gap.since) / 1000).toFixed(1);
    const m = published - (gap.publishedAtReconnect ?? published);
    const k = dropped - gap.droppedAtStart;
    const verb = gap.kind === 'initial' ? `NATS connected to ${url} after ${secs} s` : `NATS reconnected after ${secs} s`;
    log(`${verb}; published ${m} buffered events, dropped ${k}`);
    gap = undefined;
  };

  const scheduleRetry = (): void => {
    if (retryTimer || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void pump();
    }, reconnectTimeWait);
    retryTimer.unref();
  };

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      while (connected && js && buffer.size > 0 && !closed) {
        const item = buffer.shift()!;
        try {
          await js.publish(item.subject, item.data, { msgID: item.msgId, timeout: publishTimeout });
          published++;
        } catch (err) {
          item.failures++;
          if (connected && item.failures >= MAX_FAILURES_WHILE_CONNECTED) {
            log(`NATS: giving up on event ${item.subject} after ${item.failures} failed publishes: ${describeError(err)}`);
            drop(1);
            continue;
          }
          drop(buffer.unshift(item));
          if (connected && nc) {
            // Connected but the publish failed (e.g. the stream vanished after a server restart
            // without its storage): re-ensure the stream, then retry after a pause.
            try {
              await ensureEventStream(await nc.jetstreamManager(), { name: streamName, maxAgeMs, maxBytes });
            } catch {
              /* retried on the next attempt */
            }
            scheduleRetry();
          }
          break;
        }
      }
    } finally {
      pumping = false;
      finishGapIfDrained();
      settleFlushWaiters();
    }
  };

  const watchStatus = async (conn: NatsConnection): Promise<void> => {
    for await (const s of conn.status()) {
      if (s.type === 'disconnect') {
        if (!connected) continue;
        connected = false;
        if (closing) continue;
        disconnects++;
        disconnectsTotal.inc();
        gap = { since: now(), droppedAtStart: dropped, kind: 'disconnect' };
        log(`NATS disconnected from ${String(s.data)}; buffering events`);
      } else if (s.type === 'reconnect') {
        try {
          await ensureEventStream(await conn.jetstreamManager(), { name: streamName, maxAgeMs, maxBytes });
        } catch (err) {
          log(`NATS reconnected to ${String(s.data)} but the stream '${streamName}' could not be ensured: ${describeError(err)}; will retry`);
        }
        connected = true;
        if (gap) {
          gap.reconnectedAt = now();
          gap.publishedAtReconnect = published;
        }
        void pump();
      }
    }
  };

  const connectOnce = async (): Promise<NatsConnection> => {
    const conn = await connect({
      servers,
      name: `npf-events-${publisherId}`,
      token: opts.token,
      maxReconnectAttempts: -1,
      reconnectTimeWait,
      timeout: 5000,
    });
    try {
      await ensureEventStream(await conn.jetstreamManager(), { name: streamName, maxAgeMs, maxBytes });
    } catch (err) {
      await conn.close().catch(() => undefined);
      throw new NatsUnavailableError(`NATS at ${url} has no usable JetStream (start nats-server with -js): ${describeError(err)}`, { url }, { cause: err });
    }
    return conn;
  };

  const adopt = (conn: NatsConnection): void => {
    nc = conn;
    js = conn.jetstream({ timeout: publishTimeout });
    connected = true;
    void watchStatus(conn);
    if (gap) {
      gap.reconnectedAt = now();
      gap.publishedAtReconnect = published;
    }
    void pump();
  };

  const firstError = (err: unknown): NatsUnavailableError =>
    err instanceof NatsUnavailableError ? err : new NatsUnavailableError(`cannot connect to NATS at ${url}: ${describeError(err)}`, { url }, { cause: err });

  try {
    adopt(await connectOnce());
  } catch (err) {
    const e = firstError(err);
    if (opts.required) throw e;
    log(`${e.message}; events are buffered (up to ${buffer.capacity}) and NATS is retried every ${(reconnectTimeWait / 1000).toFixed(1)} s`);
    gap = { since: now(), droppedAtStart: dropped, kind: 'initial' };
    const retryConnect = async (): Promise<void> => {
      while (!closing) {
        await new Promise<void>((r) => {
          retryTimer = setTimeout(r, reconnectTimeWait);
          retryTimer.unref();
        });
        retryTimer = undefined;
        if (closing) return;
        try {
          const conn = await connectOnce();
          if (closing) {
            await conn.close();
            return;
          }
          adopt(conn);
          return;
        } catch {
          /* keep retrying quietly: one warning was logged */
        }
      }
    };
    void retryConnect();
  }

  const publish = (input: NpfEventInput): void => {
    if (closing) {
      drop(1);
      return;
    }
    try {
      const seq = (seqBySweep.get(input.sweepId) ?? 0) + 1;
      seqBySweep.set(input.sweepId, seq);
      const event = { v: EVENT_SCHEMA_VERSION, type: input.type, sweepId: input.sweepId, ...(input.taskId !== undefined ? { taskId: input.taskId } : {}), time: new Date(now()).toISOString(), seq, payload: input.payload } as NpfEvent;
      const subject = eventSubject(event);
      const data = encodeEvent(event);
      drop(buffer.push({ event, subject, data, msgId: `${publisherId}.${subjectToken(input.sweepId)}.${seq}`, failures: 0 }));
      if (connected) void pump();
    } catch (err) {
      drop(1);
      log(`NATS: event not published (${describeError(err)})`);
    }
  };

  const flushed = (): Promise<void> =>
    new Promise<void>((resolve) => {
      flushWaiters.push(resolve);
      settleFlushWaiters();
    });

  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    if (connected && buffer.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([flushed(), new Promise<void>((r) => (timer = setTimeout(r, closeTimeout)))]);
      clearTimeout(timer);
    }
    closed = true;
    if (retryTimer) clearTimeout(retryTimer);
    const left = buffer.clear();
    if (left > 0) {
      drop(left);
      log(`NATS event sink closed with ${left} unpublished events (counted as dropped)`);
    }
    if (nc) await nc.close().catch(() => undefined);
    connected = false;
    const waiters = flushWaiters;
    flushWaiters = [];
    for (const w of waiters) w();
  };

  return {
    publish,
    close,
    flushed,
    stats: () => ({ connected, published, dropped, buffered: buffer.size, disconnects }),
  };
}
