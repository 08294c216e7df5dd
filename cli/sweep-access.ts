/**
 * Where `npf ls`, `status`, `watch`, `results`, `plot` and `cancel` find sweeps: a coordinator
 * (--coordinator HOST:PORT, or NPF_COORDINATOR), or a local run directory (--data-dir, default
 * .npf), read offline from its store opened read-only, even while `npf run` writes it.
 *
 * A local directory with a live `npf run` in it (its run.json names the run's pid, gRPC address
 * and token file) is reached through that run's coordinator for what changes state (cancel), so
 * its workers are told at once; without one, a cancel writes the directory's store directly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidInputError } from '../common/errors.js';
import { ArtifactStore } from '../coordinator/artifact-store.js';
import type { SweepEvent } from '../coordinator/core/event-log.js';
import { fromWatchSweepResponse, toSweepInfo } from '../coordinator/grpc-mapping.js';
import { renderSweepResults } from '../coordinator/render-results.js';
import { loadPaperReference } from '../coordinator/results/load-paper-reference.js';
import type { PaperReference } from '../coordinator/results/paper-reference.js';
import type { ReportFormat } from '../coordinator/results/render-report.js';
import { CoordinatorStore } from '../coordinator/store/coordinator-store.js';
import { SweepCoordinator } from '../coordinator/sweep-coordinator.js';
import { HOLDER_FILE, type LockHolder } from '../coordinator/single-writer-lock.js';
import { SweepReader } from '../coordinator/sweep-reader.js';
import { parseSweepSpec } from '../coordinator/sweep-spec/parse-sweep.js';
import type { SweepInfo } from '../gen/npf/v1/sweep.js';
import { isSweepEnd } from '../events/event-schema.js';
import { trialLabel } from '../coordinator/results/trial-label.js';
import type { TrialKey } from '../coordinator/sweep-types.js';
import type { FlagSpecs } from './args.js';
import { readCsv } from './read-csv.js';
import type { TrialInfo } from './trial-board.js';
import { CONNECTION_FLAGS, connect, type ConnectionFlags } from './connection.js';
import type { SweepClient } from './sweep-client.js';

/** --data-dir beside the connection flags. */
export const SOURCE_FLAGS = { ...CONNECTION_FLAGS, 'data-dir': { kind: 'string' } } as const satisfies FlagSpecs;

export const SOURCE_USAGE = `  --data-dir DIR            a local run directory (default .npf), read offline, also while
                            npf run writes it
  --coordinator HOST:PORT   ask this coordinator instead (default env NPF_COORDINATOR)
  --token TOKEN             bearer token (or env NPF_TOKEN, or --token-file)
  --token-file FILE         read the token from FILE
  --tls-ca FILE             use TLS, trusting this CA (--tls for the system roots)`;

export type SourceFlags = ConnectionFlags & { 'data-dir'?: string };

/** The spec a sweep was submitted with. */
export interface SweepSpecSource {
  fileName: string;
  overrides: string[];
  /** Resolved (defaults, variables); undefined when the text no longer parses. */
  resolvedSpec?: unknown;
}

export interface SweepAccess {
  /** 'coordinator at HOST:PORT' or the directory. */
  readonly where: string;
  /** Every sweep, newest first. */
  list(): Promise<SweepInfo[]>;
  get(sweepId: string): Promise<SweepInfo>;
  results(sweepId: string, format: ReportFormat): Promise<{ table: string; complete: boolean }>;
  source(sweepId: string): Promise<SweepSpecSource>;
  /** Call `onEvent` for each event (the past ones first with `fromStart`) until the sweep ends or `signal` aborts. */
  watch(sweepId: string, fromStart: boolean, onEvent: (e: SweepEvent) => void, signal?: AbortSignal): Promise<void>;
  /** The sweep's trials: id, label, epochs. */
  trials(sweepId: string): Promise<TrialInfo[]>;
  /** 'none' when nothing can be running the sweep's trials (a local directory no process holds), else 'unknown'. */
  writer(): 'none' | 'unknown';
  /** The sweep's events so far, oldest first. */
  events(sweepId: string): Promise<SweepEvent[]>;
  /** Cancel the sweep (no `trials`), or only these trials (ids or unique prefixes); the ids cancelled. */
  cancel(sweepId: string, trials: readonly string[]): Promise<string[]>;
  close(): void;
}

/** What `npf run` leaves in its data directory while it runs (removed when it ends). */
export interface LiveRunFile {
  pid: number;
  /** gRPC address of its embedded coordinator. */
  address: string;
  /** File holding the run's bearer token (mode 0600). */
  tokenFile: string;
}

export const LIVE_RUN_FILE = 'run.json';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live `npf run` of a directory, if one is running there. */
export function liveRunOf(dataDir: string): LiveRunFile | undefined {
  const file = join(dataDir, LIVE_RUN_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const run = JSON.parse(readFileSync(file, 'utf8')) as LiveRunFile;
    return Number.isInteger(run.pid) && isAlive(run.pid) && typeof run.address === 'string' ? run : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a process holds the directory (a live npf run, or a coordinator on it): 'none' when its
 * single-writer lock has no holder file (removed on a clean stop) or names a dead process of this
 * host; 'unknown' otherwise (another host's process cannot be checked from here).
 */
export function writerOf(dataDir: string): 'none' | 'unknown' {
  if (liveRunOf(dataDir)) return 'unknown';
  try {
    const h = JSON.parse(readFileSync(join(dataDir, HOLDER_FILE), 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || h.host !== hostname()) return 'unknown';
    return isAlive(h.pid) ? 'unknown' : 'none';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'none' : 'unknown';
  }
}

class RemoteAccess implements SweepAccess {
  readonly where: string;

  constructor(private readonly client: SweepClient, address: string) {
    this.where = `coordinator at ${address}`;
  }

  list(): Promise<SweepInfo[]> {
    return this.client.list();
  }

  get(sweepId: string): Promise<SweepInfo> {
    return this.client.get(sweepId);
  }

  results(sweepId: string, format: ReportFormat): Promise<{ table: string; complete: boolean }> {
    return this.client.results(sweepId, format);
  }

  async source(sweepId: string): Promise<SweepSpecSource> {
    const r = await this.client.getWithSpec(sweepId);
    return { fileName: r.fileName, overrides: r.overrides, ...(r.resolvedSpecJson ? { resolvedSpec: JSON.parse(r.resolvedSpecJson) as unknown } : {}) };
  }

  watch(sweepId: string, fromStart: boolean, onEvent: (e: SweepEvent) => void, signal?: AbortSignal): Promise<void> {
    return this.client.watch(sweepId, fromStart, (m) => onEvent(fromWatchSweepResponse(m)), signal);
  }

  writer(): 'unknown' {
    return 'unknown';
  }

  /** From the per-trial table (GetResults 'trials'): the same rows a local directory has. */
  async trials(sweepId: string): Promise<TrialInfo[]> {
    const { table } = await this.client.results(sweepId, 'trials');
    return readCsv(table).map(trialFromCsv);
  }

  /**
   * The replay of WatchSweep: it sends the stored events at once, so a pause of REPLAY_IDLE_MS
   * (or the sweep's end) ends the snapshot.
   */
  async events(sweepId: string): Promise<SweepEvent[]> {
    const out: SweepEvent[] = [];
    const stop = new AbortController();
    let idle = setTimeout(() => stop.abort(), REPLAY_FIRST_MS);
    await this.watch(
      sweepId,
      true,
      (e) => {
        out.push(e);
        clearTimeout(idle);
        if (isSweepEnd(e)) stop.abort();
        else idle = setTimeout(() => stop.abort(), REPLAY_IDLE_MS);
      },
      stop.signal,
    );
    clearTimeout(idle);
    return out;
  }

  cancel(sweepId: string, trials: readonly string[]): Promise<string[]> {
    return this.client.cancelTasks(sweepId, trials);
  }

  close(): void {
    this.client.close();
  }
}

/** A remote replay: wait this long for its first event, and end it after this pause between two. */
const REPLAY_FIRST_MS = 3000;
const REPLAY_IDLE_MS = 300;

/** A row of the per-trial CSV (coordinator/results/format-tidy-csv.ts) as a TrialInfo. */
export function trialFromCsv(r: Record<string, string>): TrialInfo {
  const key: TrialKey = { dataset: r.dataset, arch: r.arch, optimizer: r.optimizer, lr: Number(r.lr), regime: r.regime, seed: Number(r.seed), ...(r.stage !== '' && r.stage !== undefined ? { stage: Number(r.stage) } : {}) };
  return { taskId: r.trial_id, label: trialLabel(key, r.trial_id), ...(Number(r.epochs) > 0 ? { epochs: Number(r.epochs) } : {}) };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
  });

class LocalAccess implements SweepAccess {
  readonly where: string;
  private readonly reader: SweepReader;
  private paper: Promise<PaperReference | undefined> | undefined;

  constructor(private readonly dir: string, private readonly flags: SourceFlags) {
    this.where = dir;
    this.reader = SweepReader.open(dir);
  }

  list(): Promise<SweepInfo[]> {
    return Promise.resolve(this.reader.listSweeps().map(toSweepInfo));
  }

  async get(sweepId: string): Promise<SweepInfo> {
    return toSweepInfo(this.reader.getSweep(sweepId));
  }

  async results(sweepId: string, format: ReportFormat): Promise<{ table: string; complete: boolean }> {
    this.paper ??= loadPaperReference().catch(() => undefined);
    return renderSweepResults(this.reader, sweepId, format, await this.paper, process.env);
  }

  async source(sweepId: string): Promise<SweepSpecSource> {
    const s = this.reader.sweepSource(sweepId);
    let resolvedSpec: unknown;
    try {
      resolvedSpec = parseSweepSpec(s.specYaml, { file: s.fileName, set: s.overrides, env: process.env });
    } catch (e) {
      if (!(e instanceof InvalidInputError)) throw e;
    }
    return { fileName: s.fileName, overrides: s.overrides, ...(resolvedSpec !== undefined ? { resolvedSpec } : {}) };
  }

  writer(): 'none' | 'unknown' {
    return writerOf(this.dir);
  }

  async trials(sweepId: string): Promise<TrialInfo[]> {
    return this.reader.outcomes(sweepId).map((o) => ({ taskId: o.taskId, label: trialLabel(o.key, o.taskId), ...(o.spec ? { epochs: o.spec.epochs } : {}) }));
  }

  async events(sweepId: string): Promise<SweepEvent[]> {
    return this.reader.events(sweepId);
  }

  /** Poll the store: every committed event is read once, in order. */
  async watch(sweepId: string, fromStart: boolean, onEvent: (e: SweepEvent) => void, signal?: AbortSignal): Promise<void> {
    const past = this.reader.events(sweepId);
    let last = 0;
    if (fromStart) {
      for (const e of past) {
        onEvent(e);
        last = e.sequence;
        if (isSweepEnd(e)) return;
      }
    } else {
      last = past.length ? past[past.length - 1].sequence : 0;
      if (this.reader.getSweep(sweepId).state !== 'running') {
        // Finished: say how (its last sweep.complete or sweep.cancelled) and end.
        const done = [...past].reverse().find(isSweepEnd);
        if (done) onEvent(done);
        return;
      }
    }
    while (!signal?.aborted) {
      await sleep(250, signal);
      for (const e of this.reader.events(sweepId, last)) {
        onEvent(e);
        last = e.sequence;
        if (isSweepEnd(e)) return;
      }
    }
  }

  async cancel(sweepId: string, trials: readonly string[]): Promise<string[]> {
    this.reader.getSweep(sweepId);
    const live = liveRunOf(this.dir);
    if (live) {
      const client = connect({ ...this.flags, coordinator: live.address, 'token-file': live.tokenFile, token: undefined });
      try {
        return await client.cancelTasks(sweepId, trials);
      } finally {
        client.close();
      }
    }
    // Nothing runs here: change the directory's store itself.
    const store = new CoordinatorStore(this.dir);
    try {
      const core = new SweepCoordinator(store, new ArtifactStore(this.dir), {
        leaseTtlMs: 30_000,
        heartbeatIntervalMs: 5_000,
        maxAttempts: 3,
        retryBackoffMs: 1_000,
        maxBackoffMs: 60_000,
        now: Date.now,
        log: () => {},
      });
      return trials.length > 0 ? await core.cancelTrials(sweepId, trials) : await core.cancelSweepTasks(sweepId);
    } finally {
      store.close();
    }
  }

  close(): void {
    this.reader.close();
  }
}

/** The sweeps of --data-dir, --coordinator or NPF_COORDINATOR, or of ./.npf. */
export function openSweepAccess(flags: SourceFlags): SweepAccess {
  if (flags['data-dir'] && flags.coordinator) throw new InvalidInputError('give --coordinator or --data-dir, not both');
  if (!flags['data-dir']) {
    const address = flags.coordinator ?? process.env.NPF_COORDINATOR;
    if (address) return new RemoteAccess(connect({ ...flags, coordinator: address }), address);
  }
  return new LocalAccess(resolve(flags['data-dir'] ?? '.npf'), flags);
}

/**
 * The sweep `ref` names: its id, its name (the newest sweep of that name), or a unique prefix of
 * its id (with or without 'sw-').
 */
export async function resolveSweep(access: SweepAccess, ref: string): Promise<SweepInfo> {
  const sweeps = await access.list();
  const exact = sweeps.find((s) => s.sweepId === ref) ?? sweeps.find((s) => s.name === ref);
  if (exact) return exact;
  const prefix = ref.startsWith('sw-') ? ref : `sw-${ref}`;
  const byPrefix = ref.length >= 3 ? sweeps.filter((s) => s.sweepId.startsWith(prefix)) : [];
  if (byPrefix.length === 1) return byPrefix[0];
  if (byPrefix.length > 1) throw new InvalidInputError(`sweep '${ref}' is ambiguous in ${access.where}: ${byPrefix.map((s) => `${s.sweepId} (${s.name})`).join(', ')}`);
  const known = sweeps.slice(0, 5).map((s) => `${s.name} (${s.sweepId})`).join(', ');
  throw new InvalidInputError(`no sweep '${ref}' in ${access.where}${sweeps.length ? `; its sweeps: ${known}${sweeps.length > 5 ? ', ...' : ''} (npf ls lists them)` : ': it has none'}`, { sweep: ref });
}
