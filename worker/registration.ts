/**
 * The worker's registration with the coordinator: the worker id and heartbeat interval it was
 * given, and re-registering when a coordinator that lost its worker table no longer knows it.
 * Concurrent callers (a report, the lease loop and a heartbeat may all find out at once) share one
 * RegisterWorker call.
 */
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { blasPresence } from '../science/backend/blas.js';
import type { CoordinatorClient } from './coordinator-client.js';
import type { GpuInventory } from './gpu-inventory.js';
import type { ResolvedWorkerOptions } from './worker-options.js';
import type { WorkerRetry } from './worker-retry.js';

/**
 * Training backends available in this installation (tfjs-node is optional and never required);
 * `webgpu` when the GPU probe found a WebGPU adapter.
 */
export function detectBackends(webgpu = false): string[] {
  const require = createRequire(import.meta.url);
  const found = webgpu ? ['wasm', 'cpu', 'webgpu'] : ['wasm', 'cpu'];
  if (blasPresence().ok) found.splice(1, 0, 'wasm-blas');
  for (const [pkg, name] of [['@tensorflow/tfjs-node', 'tensorflow'], ['@tensorflow/tfjs-node-gpu', 'tensorflow-gpu']] as const) {
    try {
      require.resolve(pkg);
      found.push(name);
    } catch {
      // not installed
    }
  }
  return found;
}

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const p of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(p) as { name?: string; version?: string };
      if (pkg.name === 'npf-sweep' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}

export interface RegistrationOptions {
  client: CoordinatorClient;
  retry: WorkerRetry;
  options: Pick<ResolvedWorkerOptions, 'coordinator' | 'resources' | 'concurrency' | 'backend' | 'fuse'>;
  log: (line: string) => void;
  /** Trials running now (said in the log line of a re-registration). */
  running: () => number;
  /** What the GPU probe found at start (undefined when --gpus was given). */
  gpus: () => GpuInventory | undefined;
}

/** ' (NVIDIA H200 ...; note)' for the registration line, when GPUs were looked for. */
function gpuSummary(gpus: GpuInventory | undefined): string {
  if (!gpus) return '';
  const found = gpus.names.length ? gpus.names.join(', ') : 'no hardware GPU found';
  return ` (${found}${gpus.note ? `; ${gpus.note}` : ''})`;
}

export class Registration {
  /** The id the coordinator gave ('' before the first registration; changes on re-registering). */
  workerId = '';
  /** Heartbeat interval: the coordinator's, at most half its lease TTL, at least 100 ms. */
  heartbeatMs = 5000;
  private pending?: Promise<void>;

  constructor(private readonly o: RegistrationOptions) {}

  /** RegisterWorker, retried while the coordinator is unreachable; `again` after it forgot this worker. */
  register(again = false): Promise<void> {
    if (this.pending) return this.pending;
    const { coordinator, resources, concurrency, backend, fuse } = this.o.options;
    const gpus = this.o.gpus();
    this.pending = (async () => {
      const res = await this.o.retry.run('register', 'registering', () =>
        this.o.client.register({
          hostname: hostname(),
          resources: { cpu: resources.cpu, gpu: resources.gpu, memoryMb: resources.memoryMb },
          backends: backend && backend !== 'auto' ? [backend] : detectBackends(gpus?.webgpu),
          version: packageVersion(),
          gpuNames: gpus?.names ?? [],
          maxBundle: fuse,
        }),
      );
      const previous = this.workerId;
      this.workerId = res.workerId;
      this.heartbeatMs = Math.max(100, Math.min(res.heartbeatIntervalMs || 5000, (res.leaseTtlMs || 30_000) / 2));
      this.o.log(
        again
          ? `re-registered with ${coordinator} (was ${previous}); still running ${this.o.running()} trial(s)`
          : `registered with ${coordinator}: cpu ${resources.cpu}, gpu ${resources.gpu}${gpuSummary(gpus)}, memory ${resources.memoryMb} MiB, concurrency ${concurrency}${fuse > 1 ? `, up to ${fuse} fused trials per process` : ''}`,
      );
    })().finally(() => (this.pending = undefined));
    return this.pending;
  }
}
