/** CoordinatorOptions as given by callers, validated once (zod) into a fully resolved form. */
import { z } from 'zod';
import type { Registry } from 'prom-client';
import { InvalidInputError } from '../common/errors.js';
import { LIMITS } from './limits.js';
import { NO_ENV } from './sweep-spec/parse-sweep.js';

export interface CoordinatorOptions {
  /** Directory of the SQLite file npf.db and artifacts/ (by sha256). Created if missing. */
  dataDir: string;
  /** gRPC listen address (default loopback '127.0.0.1:7070'; tests use '127.0.0.1:0'). */
  grpcListen?: string;
  /** Metrics + health listen address (default loopback '127.0.0.1:9464'); null for none. */
  httpListen?: string | null;
  /**
   * The administration token (SweepService: submit, cancel, results, watch, list; and the
   * dashboard); none means no auth. Without workerToken it grants worker rpcs too.
   */
  token?: string;
  /**
   * The worker token (WorkerService: register, lease, heartbeat, report, artifacts). Needs
   * `token`, and must differ from it; then each token grants its own service only.
   */
  workerToken?: string;
  /** TLS: server certificate and key (PEM files); caFile to require client certificates. */
  tls?: { certFile: string; keyFile: string; caFile?: string };
  /** A lease expires when not renewed within this (default 30000). */
  leaseTtlMs?: number;
  /** Heartbeat interval told to workers (default 5000). */
  heartbeatIntervalMs?: number;
  /** Attempts per task, the first included (default 3). */
  maxAttempts?: number;
  /** Backoff before the 2nd attempt, doubling after (default 1000). */
  retryBackoffMs?: number;
  /** Cap on one backoff (default 60000). */
  maxBackoffMs?: number;
  /** How often to look for expired leases (default leaseTtlMs / 4, at most 1000). 0 disables the timer. */
  expiryCheckMs?: number;
  /** Largest accepted artifact in bytes (default 8 GiB). */
  maxArtifactBytes?: number;
  /** Quota on the bytes of the artifacts of one sweep's tasks (default 64 GiB, coordinator/limits.ts); an upload past it is refused. */
  maxArtifactBytesPerSweep?: number;
  /**
   * SQLite durability: 'full' (default) fsyncs every group commit, so acknowledged writes
   * survive a power loss; 'normal' survives a coordinator crash but not a power loss.
   */
  synchronous?: 'full' | 'normal';
  /**
   * Publish task and sweep events to NATS JetStream (docs/events.md). required: fail start-up
   * when unreachable; token: NATS authentication; maxBytes: the stream's byte limit (default 1 GiB).
   */
  nats?: { url: string; required?: boolean; token?: string; maxBytes?: number };
  /**
   * The web dashboard at / of the HTTP listener (beside /metrics), read-only, behind the token:
   * 'loopback' (default) answers loopback clients only (a port-forward or SSH tunnel counts),
   * 'all' answers any client, 'off' serves none.
   */
  ui?: 'loopback' | 'all' | 'off';
  /** prom-client registry (default: a fresh one). */
  registry?: Registry;
  /** Clock, Unix ms (default Date.now). */
  now?: () => number;
  log?: (line: string) => void;
  /**
   * Environment for ${NAME} in submitted specs. Default none: the coordinator never expands its
   * own environment into a client's spec (the submitting client expands variables before sending).
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Ceiling on the trials of one sweep (default 10,000, coordinator/limits.ts); a spec's limits.maxTrials can only lower it. */
  maxTrialsPerSweep?: number;
  /**
   * Days after which the progress events and epoch records of finished sweeps are pruned
   * (core/retention.ts; checked at start and hourly). Default 30; 0 keeps everything.
   */
  retentionDays?: number;
  /** An artifact upload that sends nothing for this long is ended (default 60000). */
  uploadIdleMs?: number;
  /** Events a WatchSweep client may fall behind before it is closed (default 10000). */
  watchBacklog?: number;
  /**
   * At start, hand back every lease in the store as interrupted (not counted against attempts),
   * with this reason, instead of expiring the stale ones as failed attempts: for an embedded
   * coordinator whose workers are all its own child processes (`npf run`), where a lease left in
   * the store belongs to a worker of an earlier run that was stopped.
   */
  releaseLeasesAtStart?: string;
}

const schema = z.object({
  dataDir: z.string().min(1),
  grpcListen: z.string().regex(/^(\[[^\]]+\]|[^:]*):\d+$/, 'must be host:port').default('127.0.0.1:7070'),
  httpListen: z.string().regex(/^(\[[^\]]+\]|[^:]*):\d+$/, 'must be host:port').nullable().default('127.0.0.1:9464'),
  token: z.string().min(1).optional(),
  workerToken: z.string().min(1).optional(),
  tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1), caFile: z.string().min(1).optional() }).optional(),
  leaseTtlMs: z.number().int().positive().default(30_000),
  heartbeatIntervalMs: z.number().int().positive().default(5_000),
  maxAttempts: z.number().int().positive().default(3),
  retryBackoffMs: z.number().int().min(0).default(1_000),
  maxBackoffMs: z.number().int().min(0).default(60_000),
  expiryCheckMs: z.number().int().min(0).optional(),
  maxArtifactBytes: z.number().int().positive().default(8 * 1024 ** 3),
  maxArtifactBytesPerSweep: z.number().int().positive().default(LIMITS.artifactBytesPerSweep),
  synchronous: z.enum(['full', 'normal']).default('full'),
  nats: z
    .object({ url: z.string().min(1), required: z.boolean().optional(), token: z.string().min(1).optional(), maxBytes: z.number().int().min(-1).optional() })
    .optional(),
  releaseLeasesAtStart: z.string().min(1).optional(),
  maxTrialsPerSweep: z.number().int().positive().default(LIMITS.maxTrialsPerSweep),
  uploadIdleMs: z.number().int().positive().default(LIMITS.uploadIdleMs),
  retentionDays: z.number().min(0).default(30),
  watchBacklog: z.number().int().positive().default(LIMITS.watchBacklog),
  ui: z.enum(['loopback', 'all', 'off']).default('loopback'),
});

export type ResolvedCoordinatorOptions = z.infer<typeof schema> & {
  expiryCheckMs: number;
  registry?: Registry;
  now: () => number;
  log: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
};

export function resolveCoordinatorOptions(o: CoordinatorOptions): ResolvedCoordinatorOptions {
  const { registry, now, log, env, ...plain } = o;
  const parsed = schema.safeParse(plain);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new InvalidInputError(`coordinator option ${i.path.join('.')}: ${i.message}`, { field: i.path.join('.') });
  }
  const r = parsed.data;
  if (r.workerToken !== undefined && r.token === undefined) {
    throw new InvalidInputError('coordinator option workerToken: needs an administration token too (token): a worker token alone would leave administration open', { field: 'workerToken' });
  }
  if (r.workerToken !== undefined && r.workerToken === r.token) {
    throw new InvalidInputError('coordinator option workerToken: must differ from the administration token', { field: 'workerToken' });
  }
  return {
    ...r,
    expiryCheckMs: r.expiryCheckMs ?? Math.max(10, Math.min(1000, Math.floor(r.leaseTtlMs / 4))),
    registry,
    now: now ?? Date.now,
    log: log ?? ((line: string) => console.error(`[coordinator] ${line}`)),
    env: env ?? NO_ENV,
  };
}
