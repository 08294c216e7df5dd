/**
 * WorkerOptions (docs/runtime-contract.md) validated once into a fully resolved form.
 */
import type { ClientTls } from '../common/grpc-client-credentials.js';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { InvalidInputError } from '../common/errors.js';
import type { BackendName } from '../science/types.js';
import { BACKENDS, chooseBackend, type InstalledBackends } from '../science/backend/backend-choice.js';
import { blasPresence } from '../science/backend/blas.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { DEFAULT_KILL_GRACE_MS } from './drain-budget.js';
import type { GpuInventory } from './gpu-inventory.js';

export interface WorkerResources {
  /** CPU cores offered (default: os.cpus().length). */
  cpu: number;
  /**
   * GPU devices offered. Default: the hardware GPUs found at start (WebGPU adapters a trial can
   * open by index, or CUDA devices when tfjs-node-gpu is installed; gpu-inventory.ts).
   */
  gpu: number;
  /** Memory offered in MiB (default: os.totalmem()). */
  memoryMb: number;
}

export interface WorkerOptions {
  /** host:port of the coordinator's gRPC endpoint. */
  coordinator: string;
  token?: string;
  tls?: ClientTls;
  resources?: Partial<WorkerResources>;
  /** Trials run at once (default: floor(cpu), at least 1). */
  concurrency?: number;
  /** Artifacts cache and per-trial checkpoint dirs live here. */
  workDir: string;
  /** Backend for trials whose spec says 'auto' (default: leave 'auto' to the science core). */
  backend?: BackendName;
  /**
   * Most trials to train as one stacked process (a bundle of fused trials, docs/fusion.md); 1:
   * one trial per process. Default: by the backend dense trials run on here (defaultFuse).
   */
  fuse?: number;
  /** /metrics and /healthz (default '0.0.0.0:9465'; null: no HTTP server). */
  httpListen?: string | null;
  log?: (line: string) => void;
  /** prom-client registry (default: a fresh one). */
  registry?: Registry;
  /** On drain, how long running trials may go on before they are killed (default 25 s). */
  drainGraceMs?: number;
  /** Between a child's SIGTERM and its SIGKILL (default 3 s). */
  killGraceMs?: number;
  /** Long-poll of LeaseTasks (default 10 s). */
  leaseWaitMs?: number;
  /**
   * A running trial writes a resume state at an epoch's end at most this often, and the worker
   * uploads it, so an interrupted trial's next attempt continues from there (default 30 s; 0:
   * every epoch).
   */
  resumeEveryMs?: number;
  /** Reconnect backoff (default 250 ms doubling to 10 s). */
  backoff?: BackoffPolicy;
  /** Compiled trial child entry (default: dist/worker/trial-child.js next to this module). */
  childScript?: string;
  /** Environment of trial children (default: this process's, less NPF_TOKEN: trials never need the token). */
  childEnv?: NodeJS.ProcessEnv;
  /** Finds the GPUs when resources.gpu is not given (default: probeGpus with gpu-probe-child.js). */
  gpuInventory?: () => Promise<GpuInventory>;
}

/**
 * Stack size by the backend a worker's dense (FC) trials run on, where fusion was measured to pay
 * (BENCHMARKS.md, "Fused trials"; docs/fusion.md): wasm 8 (2.0-2.8x per trial with Adam, K = 4-16
 * alike; the machine's speed moves the figure); webgpu 16 (3.2-4.0x on a software device, K = 8 and 16 alike, and on a GPU the overhead
 * a stack shares is a larger part of a step). Elsewhere 1 (no bundles) until measured.
 */
const FUSE_BY_BACKEND: Partial<Record<string, number>> = { wasm: 8, 'wasm-blas': 8, webgpu: 16 };

/** The default --fuse of a worker with `backend` (its --backend) and these optional backends installed. */
export function defaultFuse(backend: BackendName | undefined, installed: InstalledBackends): number {
  // Named webgpu needs no adapter probe to know where its trials run (chooseBackend would want one).
  if (backend === 'webgpu') return FUSE_BY_BACKEND.webgpu ?? 1;
  const decision = chooseBackend(backend ?? 'auto', false, installed);
  return decision.ok ? (FUSE_BY_BACKEND[decision.choice.backend] ?? 1) : 1;
}

/** Which optional backends this process could load (resolution and file checks only, nothing loaded). */
function installedHere(): InstalledBackends {
  const require = createRequire(import.meta.url);
  const has = (pkg: string): boolean => {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  };
  return { tensorflow: has('@tensorflow/tfjs-node'), tensorflowGpu: has('@tensorflow/tfjs-node-gpu'), cudaDevices: 0, blas: blasPresence() };
}

export type ResolvedWorkerOptions = Required<Omit<WorkerOptions, 'token' | 'tls' | 'backend' | 'resources' | 'httpListen' | 'registry' | 'childScript' | 'childEnv' | 'gpuInventory'>> & {
  token?: string;
  tls?: ClientTls;
  backend?: BackendName;
  resources: WorkerResources;
  httpListen: string | null;
  childEnv: NodeJS.ProcessEnv;
  /** resources.gpu was not given: it is found at start (0 until then). */
  detectGpus: boolean;
};

const schema = z.object({
  coordinator: z.string().regex(/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port'),
  workDir: z.string().min(1),
  concurrency: z.number().int().positive().optional(),
  resources: z
    .object({ cpu: z.number().positive().optional(), gpu: z.number().int().min(0).optional(), memoryMb: z.number().int().positive().optional() })
    .optional(),
  drainGraceMs: z.number().int().min(0).optional(),
  killGraceMs: z.number().int().min(0).optional(),
  leaseWaitMs: z.number().int().min(0).optional(),
  resumeEveryMs: z.number().int().min(0).optional(),
  fuse: z.number().int().min(1).max(64).optional(),
  backend: z.enum(BACKENDS).optional(),
});

function withoutToken(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NPF_TOKEN: _token, ...rest } = env;
  return rest;
}

export function resolveWorkerOptions(opts: WorkerOptions): ResolvedWorkerOptions {
  const parsed = schema.safeParse({
    coordinator: opts.coordinator,
    workDir: opts.workDir,
    concurrency: opts.concurrency,
    resources: opts.resources,
    drainGraceMs: opts.drainGraceMs,
    killGraceMs: opts.killGraceMs,
    leaseWaitMs: opts.leaseWaitMs,
    resumeEveryMs: opts.resumeEveryMs,
    fuse: opts.fuse,
    backend: opts.backend,
  });
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    const field = i.path.join('.');
    const value = i.path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k as string], opts as unknown);
    throw new InvalidInputError(`worker option ${field} = ${JSON.stringify(value)}: ${i.message}`, { field, value });
  }
  const cpu = opts.resources?.cpu ?? Math.max(1, cpus().length);
  const resources: WorkerResources = {
    cpu,
    gpu: opts.resources?.gpu ?? 0,
    memoryMb: opts.resources?.memoryMb ?? Math.floor(totalmem() / (1024 * 1024)),
  };
  return {
    coordinator: opts.coordinator,
    token: opts.token,
    tls: opts.tls,
    resources,
    concurrency: opts.concurrency ?? Math.max(1, Math.floor(cpu)),
    workDir: opts.workDir,
    backend: opts.backend,
    fuse: opts.fuse ?? defaultFuse(opts.backend, installedHere()),
    httpListen: opts.httpListen === undefined ? '0.0.0.0:9465' : opts.httpListen,
    log: opts.log ?? ((line: string) => process.stderr.write(`${line}\n`)),
    drainGraceMs: opts.drainGraceMs ?? 25_000,
    killGraceMs: opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    leaseWaitMs: opts.leaseWaitMs ?? 10_000,
    resumeEveryMs: opts.resumeEveryMs ?? 30_000,
    backoff: opts.backoff ?? DEFAULT_BACKOFF,
    childEnv: opts.childEnv ?? withoutToken(process.env),
    detectGpus: opts.resources?.gpu === undefined,
  };
}
