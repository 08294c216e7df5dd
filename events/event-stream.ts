/**
 * The JetStream stream that stores npf events (subjects `npf.>`), created or updated on connect.
 */
import { DiscardPolicy, RetentionPolicy, StorageType, nanos, type JetStreamManager, type StreamConfig } from 'nats';
import { EVENT_STREAM_SUBJECTS } from './event-schema.js';

/**
 * Default cap on the stream's stored bytes (1 GiB): with limits retention and discard-old, the
 * oldest events go first once it is reached, so 30 days of events cannot fill the server's disk.
 * Keep it below the server's JetStream max_file_store.
 */
export const DEFAULT_EVENT_STREAM_MAX_BYTES = 1024 ** 3;

export interface EventStreamOptions {
  /** Stream name, default 'NPF_EVENTS'. */
  name: string;
  /** Events older than this are discarded (limits-based retention). */
  maxAgeMs: number;
  /** Cap on stored bytes, default DEFAULT_EVENT_STREAM_MAX_BYTES; -1: unlimited. */
  maxBytes?: number;
}

/** Desired configuration of the events stream. */
export function eventStreamConfig(opts: EventStreamOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: opts.name,
    subjects: [EVENT_STREAM_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(opts.maxAgeMs),
    max_bytes: opts.maxBytes ?? DEFAULT_EVENT_STREAM_MAX_BYTES,
    // Publishes carry a Nats-Msg-Id: a retry after a lost ack is stored once.
    duplicate_window: nanos(2 * 60 * 1000),
    num_replicas: 1,
  };
}

/** Create the stream, or update it to the desired configuration when it exists. */
export async function ensureEventStream(jsm: JetStreamManager, opts: EventStreamOptions): Promise<void> {
  const cfg = eventStreamConfig(opts);
  let exists = true;
  try {
    await jsm.streams.info(cfg.name);
  } catch (err) {
    if (!/stream not found/i.test(String((err as Error).message))) throw err;
    exists = false;
  }
  if (exists) await jsm.streams.update(cfg.name, cfg);
  else await jsm.streams.add(cfg);
}
