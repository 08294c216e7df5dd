/**
 * Follow one sweep's events from NATS JetStream: an ordered consumer (ephemeral, in-order,
 * re-created by nats.js after a gap) filtered to `npf.sweep.<sweepId>.>`, delivering all stored
 * events first when `fromStart` (replay) or only new ones otherwise. Ends on the sweep's
 * `sweep.complete` (or `sweep.cancelled`) event, or when `signal` aborts.
 */
import { DeliverPolicy, connect, type ConsumerMessages, type NatsConnection } from 'nats';
import { describeError } from '../common/errors.js';
import { DEFAULT_EVENT_STREAM, decodeEvent, isSweepEnd, sweepSubjectFilter, type NpfEvent } from './event-schema.js';
import { NatsUnavailableError } from './errors.js';
import { resolveNatsServers } from './nats-url.js';

export interface FollowSweepOptions {
  url: string;
  sweepId: string;
  /** true: replay every stored event of the sweep first; false: only events from now on. */
  fromStart: boolean;
  /** Called once per event, in stream order; awaited before the next one. */
  onEvent: (event: NpfEvent) => void | Promise<void>;
  signal?: AbortSignal;
  /** Stream name, default 'NPF_EVENTS'. */
  stream?: string;
  /** Authentication token, for a server with `authorization { token: ... }`. */
  token?: string;
  /** Warnings (undecodable messages). Default: stderr. */
  log?: (line: string) => void;
}

export interface FollowSweepResult {
  /** Events delivered to onEvent. */
  events: number;
  /** Why following stopped. */
  end: 'complete' | 'cancelled' | 'aborted';
  /** Events missing according to `seq` gaps (dropped by the publisher while NATS was down). */
  missed: number;
}

/**
 * Follow a sweep until it completes. Rejects with NatsUnavailableError when NATS (or the events
 * stream) cannot be reached at start.
 */
export async function followSweepFromNats(opts: FollowSweepOptions): Promise<FollowSweepResult> {
  const servers = resolveNatsServers(opts.url);
  const url = servers.join(',');
  const stream = opts.stream ?? DEFAULT_EVENT_STREAM;
  const log = opts.log ?? ((line: string) => console.error(line));
  if (opts.signal?.aborted) return { events: 0, end: 'aborted', missed: 0 };

  let nc: NatsConnection;
  try {
    nc = await connect({ servers, token: opts.token, name: `npf-watch-${opts.sweepId}`, maxReconnectAttempts: -1, reconnectTimeWait: 1000, timeout: 5000 });
  } catch (err) {
    throw new NatsUnavailableError(`cannot connect to NATS at ${url}: ${describeError(err)}`, { url }, { cause: err });
  }
  let messages: ConsumerMessages | undefined;
  const onAbort = (): void => {
    messages?.stop();
    void nc.close();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let events = 0;
  let missed = 0;
  let lastSeq = 0;
  try {
    try {
      // Replay: nats.js's ordered consumer starts at stream sequence 1 when no deliver_policy is
      // given (DeliverPolicy.All would also send opt_start_seq, which the server refuses).
      const consumer = await nc.jetstream().consumers.get(stream, {
        filterSubjects: sweepSubjectFilter(opts.sweepId),
        ...(opts.fromStart ? {} : { deliver_policy: DeliverPolicy.New }),
      });
      messages = await consumer.consume();
    } catch (err) {
      if (opts.signal?.aborted) return { events, end: 'aborted', missed };
      const msg = describeError(err);
      const hint = /stream not found/i.test(msg) ? ` (no events were ever published to stream '${stream}' there)` : '';
      throw new NatsUnavailableError(`cannot follow sweep '${opts.sweepId}' on NATS at ${url}: ${msg}${hint}`, { url }, { cause: err });
    }
    if (opts.signal?.aborted) return { events, end: 'aborted', missed };
    for await (const m of messages) {
      let e: NpfEvent;
      try {
        e = decodeEvent(m.data, m.subject);
      } catch (err) {
        log(`npf watch: skipping message: ${describeError(err)}`);
        continue;
      }
      if (e.sweepId !== opts.sweepId) continue;
      if (e.seq > lastSeq + 1 && lastSeq > 0) missed += e.seq - lastSeq - 1;
      lastSeq = e.seq;
      events++;
      await opts.onEvent(e);
      if (isSweepEnd(e)) return { events, end: e.type === 'sweep.complete' ? 'complete' : 'cancelled', missed };
    }
    return { events, end: 'aborted', missed };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    messages?.stop();
    await nc.close().catch(() => undefined);
  }
}
