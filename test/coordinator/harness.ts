/** Test harness: a real coordinator on 127.0.0.1:0 in a temp dir, a fake clock, and generated clients acting as workers. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../../gen/npf/v1/sweep.js';
import { SweepServiceClient, WorkerServiceClient, type TaskLease } from '../../gen/npf/v1/sweep.js';
import { startCoordinator, type CoordinatorOptions, type RunningCoordinator } from '../../coordinator/main.js';
import type { ExpandedTask } from '../../coordinator/sweep-types.js';
import type { TrialResult, TrialSpec } from '../../science/types.js';

export interface FakeClock {
  t: number;
  now: () => number;
  advance(ms: number): void;
}

export function fakeClock(start = 1_700_000_000_000): FakeClock {
  const c: FakeClock = {
    t: start,
    now: () => c.t,
    advance: (ms) => {
      c.t += ms;
    },
  };
  return c;
}

export function tempDir(prefix = 'npf-coord-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

type Callback<Res> = (err: grpc.ServiceError | null, res: Res) => void;

/**
 * Promise wrapper over a generated unary method, with metadata. The request is completed with
 * the message's defaults (`XxxRequest.fromPartial`): ts-proto's encoder throws on a missing
 * scalar, so tests written before a field was added (CompleteTask's lease_next) keep working.
 */
export function unary<Res>(client: grpc.Client, method: string, req: unknown, md = new grpc.Metadata()): Promise<Res> {
  const fn = (client as unknown as Record<string, (req: unknown, md: grpc.Metadata, cb: Callback<Res>) => void>)[method];
  const type = (pb as unknown as Record<string, { fromPartial?: (o: unknown) => unknown } | undefined>)[`${method[0].toUpperCase()}${method.slice(1)}Request`];
  const full = type?.fromPartial ? type.fromPartial(req) : req;
  return new Promise((resolve, reject) => fn.call(client, full, md, (err, res) => (err ? reject(err) : resolve(res))));
}

export function bearer(token: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

export interface Harness {
  c: RunningCoordinator;
  dir: string;
  clock: FakeClock;
  /** The administration token (SweepService; with no workerToken in the options, every rpc). */
  token: string;
  /** The token worker rpcs are sent with: the options' workerToken, else `token`. */
  workerToken: string;
  worker: WorkerServiceClient;
  sweep: SweepServiceClient;
  /**
   * A WorkerService call as the worker it names would make it: a request naming a worker id (and
   * each CompleteTasks item) gets that worker's secret unless it sets workerSecret itself.
   */
  w<Res>(method: string, req: unknown): Promise<Res>;
  /** The secret RegisterWorker issued to a worker registered through `w`/`register` ('' if none). */
  secretOf(workerId: string): string;
  s<Res>(method: string, req: unknown): Promise<Res>;
  register(resources?: { cpu: number; gpu: number; memoryMb: number }): Promise<string>;
  lease(workerId: string, maxTasks?: number, waitMs?: number): Promise<TaskLease[]>;
  restart(extra?: Partial<CoordinatorOptions>): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(extra: Partial<CoordinatorOptions> = {}, dir = tempDir()): Promise<Harness> {
  const clock = fakeClock();
  const token = crypto.randomBytes(8).toString('hex');
  const base: CoordinatorOptions = {
    dataDir: dir,
    grpcListen: '127.0.0.1:0',
    httpListen: '127.0.0.1:0',
    token,
    now: clock.now,
    expiryCheckMs: 0,
    leaseTtlMs: 10_000,
    retryBackoffMs: 1_000,
    maxAttempts: 3,
    log: () => {},
  };
  const h = {} as Harness;
  const secrets = new Map<string, string>();
  const sign = (r: unknown): unknown => {
    if (!r || typeof r !== 'object') return r;
    const m = r as { workerId?: unknown; workerSecret?: unknown; items?: unknown };
    const out: Record<string, unknown> = { ...m };
    if (typeof m.workerId === 'string' && m.workerSecret === undefined) out.workerSecret = secrets.get(m.workerId) ?? '';
    if (Array.isArray(m.items)) out.items = m.items.map(sign);
    return out;
  };
  const connect = async (opts: Partial<CoordinatorOptions>): Promise<void> => {
    h.c = await startCoordinator({ ...base, ...extra, ...opts });
    h.worker = new WorkerServiceClient(h.c.grpcAddress, grpc.credentials.createInsecure());
    h.sweep = new SweepServiceClient(h.c.grpcAddress, grpc.credentials.createInsecure());
  };
  await connect({});
  Object.assign(h, {
    dir,
    clock,
    token,
    workerToken: extra.workerToken ?? token,
    w: async <Res>(method: string, req: unknown) => {
      const res = await unary<Res>(h.worker, method, sign(req), bearer(h.workerToken));
      if (method === 'registerWorker') {
        const r = res as { workerId: string; workerSecret: string };
        secrets.set(r.workerId, r.workerSecret);
      }
      return res;
    },
    secretOf: (workerId: string) => secrets.get(workerId) ?? '',
    s: <Res>(method: string, req: unknown) => unary<Res>(h.sweep, method, req, bearer(token)),
    async register(resources = { cpu: 4, gpu: 0, memoryMb: 16_000 }) {
      const r = await h.w<{ workerId: string }>('registerWorker', { hostname: 'test', resources, backends: ['cpu'], version: 't' });
      return r.workerId;
    },
    async lease(workerId: string, maxTasks = 8, waitMs = 0) {
      return (await h.w<{ leases: TaskLease[] }>('leaseTasks', { workerId, maxTasks, waitMs })).leases;
    },
    async restart(opts: Partial<CoordinatorOptions> = {}) {
      h.worker.close();
      h.sweep.close();
      await h.c.stop();
      await connect(opts);
    },
    async close() {
      h.worker.close();
      h.sweep.close();
      await h.c.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  });
  return h;
}

/** A minimal resolved TrialSpec for fixtures. */
export function fixtureSpec(seed: number, regime: TrialSpec['regime'] = 'relu'): TrialSpec {
  return {
    dataset: { name: 'mnist', trainSubset: { first: 100 } },
    arch: { kind: 'fc', width: 8, depth: 2, bias: true },
    regime,
    gate: { beta: 4, eps: 0.1 },
    optimizer: { name: 'adam', lr: 0.001 },
    loss: 'cross-entropy',
    init: 'glorot-uniform',
    epochs: 2,
    batchSize: 32,
    seed,
    backend: 'cpu',
  };
}

let counter = 0;

/** An ExpandedTask with a fresh unique id. */
export function fixtureTask(opts: {
  seed?: number;
  regime?: TrialSpec['regime'];
  parent?: { taskId: string; checkpoint: string };
  resources?: ExpandedTask['resources'];
  priority?: number;
  lr?: number;
} = {}): ExpandedTask {
  const seed = opts.seed ?? 0;
  const regime = opts.regime ?? 'relu';
  const lr = opts.lr ?? 0.001;
  return {
    taskId: crypto.createHash('sha256').update(`${process.pid}-${Date.now()}-${counter++}-${Math.random()}`).digest('hex'),
    key: { dataset: 'mnist', arch: 'fc', optimizer: 'adam', lr, regime, seed },
    spec: fixtureSpec(seed, regime),
    ...(opts.parent ? { parent: opts.parent } : {}),
    resources: opts.resources ?? { cpu: 1, gpu: 0, memoryMb: 1000 },
    priority: opts.priority ?? 0,
  };
}

export function fixtureResult(acc = 0.9, status: TrialResult['status'] = 'succeeded', checkpoints: TrialResult['checkpoints'] = []): TrialResult {
  return {
    status,
    backend: 'cpu',
    bestTestAccuracy: acc,
    bestEpoch: 1,
    finalTestAccuracy: acc,
    epochs: [
      { epoch: 1, trainLoss: 0.5, testLoss: 0.4, testAccuracy: acc, examplesPerSec: 1000, durationMs: 1500 },
    ],
    ...(status === 'diverged' ? { divergedAtEpoch: 2 } : {}),
    checkpoints,
    wallMs: 3000,
  };
}

export async function submitFixtures(h: Harness, tasks: ExpandedTask[], name = `s${counter++}`): Promise<string> {
  const r = await h.c.core.submitSweep({ name, fileName: 'fixture.yaml', specYaml: '# fixture', overrides: [], tasks });
  return r.sweepId;
}

/**
 * Upload bytes as an artifact of a lease (header, then 3 chunks), as `header.workerId` (default:
 * the worker the task is leased to now) with its secret (default: the one issued to it).
 */
export function uploadArtifact(
  h: Harness,
  lease: { taskId: string; fencingToken: number },
  name: string,
  bytes: Buffer,
  header: { sha256?: string; size?: number; workerId?: string; workerSecret?: string } = {},
): Promise<{ sha256: string; size: number }> {
  const sha = header.sha256 ?? crypto.createHash('sha256').update(bytes).digest('hex');
  const workerId = header.workerId ?? h.c.core.store.tasks.byId(lease.taskId)?.lease_worker ?? '';
  const workerSecret = header.workerSecret ?? h.secretOf(workerId);
  return new Promise((resolve, reject) => {
    const stream = h.worker.uploadArtifact(bearer(h.workerToken), (err, res) => (err ? reject(err) : resolve(res)));
    stream.write({
      header: { taskId: lease.taskId, fencingToken: lease.fencingToken, workerId, workerSecret, ref: { name, sha256: sha, size: header.size ?? bytes.length, epoch: 1 } },
    });
    const third = Math.ceil(bytes.length / 3);
    for (let i = 0; i < bytes.length; i += third) stream.write({ chunk: bytes.subarray(i, i + third) });
    stream.end();
  });
}

export function downloadArtifact(h: Harness, sha256: string): Promise<{ bytes: Buffer; chunks: number; size: number }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = -1;
    const stream = h.worker.downloadArtifact({ sha256 }, bearer(h.workerToken));
    stream.on('data', (m: { chunk: Buffer; size: number }) => {
      if (size < 0) size = m.size;
      parts.push(Buffer.from(m.chunk));
    });
    stream.on('end', () => resolve({ bytes: Buffer.concat(parts), chunks: parts.length, size }));
    stream.on('error', reject);
  });
}

export function grpcError(e: unknown): { code: number; details: string } {
  const err = e as grpc.ServiceError;
  return { code: err.code, details: err.details };
}

/** The gRPC error a call was refused with; fails if the call succeeded. */
export async function refused(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (e) {
    return grpcError(e);
  }
  throw new Error('expected the call to be refused, but it succeeded');
}
