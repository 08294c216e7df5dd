/**
 * The JetStream stream that stores npf events (subjects `npf.>`), created or updated on connect.
 */
import { DiscardPolicy, RetentionPolicy, StorageType, nanos, type JetStreamManager, type StreamConfig } from 'nats';
import { EVENT_STREAM_SUBJECTS } from './event-schema.js';

export interface EventStreamOptions {
  /** Stream name, default 'NPF_EVENTS'. */
  name: string;
  /** Events older than this are discarded (limits-based retention). */
  maxAgeMs: number;
  /** Cap on stored bytes, default unlimited (-1). */
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
    max_bytes: opts.maxBytes ?? -1,
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
