/**
 * Test helper for the deploy tests: a real coordinator and a real worker, started in this process
 * on loopback (gRPC and HTTP on port 0, fresh prom-client registries, their own temp dir), that
 * serve /healthz, /readyz and /metrics as the manifests and scrape configs expect.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { startCoordinator, type RunningCoordinator } from '../../coordinator/main.js';
import { startWorker, type RunningWorker } from '../../worker/main.js';

export interface NpfPair {
  /** Temp dir holding the coordinator's data dir and the worker's work dir. */
  dir: string;
  coordinator: RunningCoordinator;
  worker: RunningWorker;
  /** Coordinator HTTP address (host:port actually bound). */
  coordinatorHttp: string;
  /** Worker HTTP address (host:port actually bound). */
  workerHttp: string;
  /** Stop the worker, then the coordinator, and remove the temp dir. */
  stop(): Promise<void>;
}

/** The resources the worker offers (the coordinator's npf_resource_capacity sums them). */
export const PAIR_WORKER_RESOURCES = { cpu: 1, gpu: 0, memoryMb: 512 } as const;

/** Start a coordinator and one worker connected to it; `label` names the temp dir. */
export async function startNpfPair(label: string, token = 'deploy-test-token'): Promise<NpfPair> {
  const dir = mkdtempSync(join(tmpdir(), `npf-${label}-`));
  let coordinator: RunningCoordinator | undefined;
  let worker: RunningWorker | undefined;
  const stop = async (): Promise<void> => {
    try {
      await worker?.stop();
      await coordinator?.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    coordinator = await startCoordinator({
      dataDir: join(dir, 'coordinator'),
      grpcListen: '127.0.0.1:0',
      httpListen: '127.0.0.1:0',
      token,
      registry: new Registry(),
      log: () => {},
    });
    worker = await startWorker({
      coordinator: coordinator.grpcAddress,
      token,
      resources: { ...PAIR_WORKER_RESOURCES },
      workDir: join(dir, 'worker'),
      backend: 'cpu',
      httpListen: '127.0.0.1:0',
      registry: new Registry(),
      log: () => {},
    });
    if (!coordinator.httpAddress) throw new Error('coordinator started without an HTTP address (httpListen was 127.0.0.1:0)');
    if (!worker.httpAddress) throw new Error('worker started without an HTTP address (httpListen was 127.0.0.1:0)');
    return { dir, coordinator, worker, coordinatorHttp: coordinator.httpAddress, workerHttp: worker.httpAddress, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** GET http://<address><path>: status and body text. */
export async function httpGet(address: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${address}${path}`);
  return { status: res.status, body: await res.text() };
}
