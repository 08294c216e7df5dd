/**
 * What the manifests and the scrape configs point at answers on the real processes: a real
 * coordinator and a real worker (in this process, loopback, port 0) serve /healthz, /readyz and
 * /metrics; the metrics text passes `promtool check metrics` and carries every contract name the
 * rules and the dashboard use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type RunningCoordinator } from '../../coordinator/main.js';
import { CONTRACT_METRICS } from '../../deploy/metrics-contract.js';
import { startWorker, type RunningWorker } from '../../worker/main.js';

let dir: string;
let coordinator: RunningCoordinator;
let worker: RunningWorker;
const TOKEN = 'probe-test-token';

async function get(address: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${address}${path}`);
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'npf-probes-'));
  coordinator = await startCoordinator({
    dataDir: join(dir, 'coordinator'),
    grpcListen: '127.0.0.1:0',
    httpListen: '127.0.0.1:0',
    token: TOKEN,
    registry: new Registry(),
    log: () => {},
  });
  worker = await startWorker({
    coordinator: coordinator.grpcAddress,
    token: TOKEN,
    resources: { cpu: 1, gpu: 0, memoryMb: 512 },
    workDir: join(dir, 'worker'),
    backend: 'cpu',
    httpListen: '127.0.0.1:0',
    registry: new Registry(),
    log: () => {},
  });
});

afterAll(async () => {
  await worker?.stop();
  await coordinator?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`promtool: ${r.error.message} (apt-get install prometheus)`);
  return { status: r.status, output: r.stdout + r.stderr };
}

describe('deploy/probes - the endpoints the manifests use answer on the real processes', () => {
  it('deploy/probes - coordinator: /healthz and /readyz answer 200 (liveness and readiness probes)', async () => {
    expect(coordinator.httpAddress).toBeDefined();
    expect((await get(coordinator.httpAddress!, '/healthz')).status).toBe(200);
    expect((await get(coordinator.httpAddress!, '/readyz')).status).toBe(200);
  });

  it('deploy/probes - coordinator: /metrics passes promtool check metrics and exports every contract name', async () => {
    const { status, body } = await get(coordinator.httpAddress!, '/metrics');
    expect(status).toBe(200);
    const lint = promtoolCheckMetrics(body);
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
    for (const m of CONTRACT_METRICS.filter((x) => x.exporter === 'coordinator')) expect(body).toContain(`# TYPE ${m.name} ${m.type}`);
  });

  it('deploy/probes - worker: /healthz answers 200 and /metrics exports every contract name', async () => {
    expect(worker.httpAddress).toBeDefined();
    expect((await get(worker.httpAddress!, '/healthz')).status).toBe(200);
    const { status, body } = await get(worker.httpAddress!, '/metrics');
    expect(status).toBe(200);
    const lint = promtoolCheckMetrics(body);
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
    for (const m of CONTRACT_METRICS.filter((x) => x.exporter === 'worker')) expect(body).toContain(`# TYPE ${m.name} ${m.type}`);
  });

  it('deploy/probes - promtool check metrics bites on a badly named counter', () => {
    const lint = promtoolCheckMetrics('# HELP npf_bad A counter without _total.\n# TYPE npf_bad counter\nnpf_bad 1\n');
    expect(lint.output).toMatch(/_total/);
  });
});
