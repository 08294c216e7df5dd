/**
 * What the manifests and the scrape configs point at answers on the real processes: a real
 * coordinator and a real worker (in this process, loopback, port 0) serve /healthz, /readyz and
 * /metrics; the metrics text passes `promtool check metrics` and carries every contract name the
 * rules and the dashboard use.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_METRICS } from '../../deploy/metrics-contract.js';
import { httpGet as get, startNpfPair, type NpfPair } from './npf-pair.js';

let pair: NpfPair;

beforeAll(async () => {
  pair = await startNpfPair('probes', 'probe-test-token');
});

afterAll(async () => {
  await pair?.stop();
});

function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`promtool: ${r.error.message} (apt-get install prometheus)`);
  return { status: r.status, output: r.stdout + r.stderr };
}

describe('deploy/probes - the endpoints the manifests use answer on the real processes', () => {
  it('deploy/probes - coordinator: /healthz and /readyz answer 200 (liveness and readiness probes)', async () => {
    expect((await get(pair.coordinatorHttp, '/healthz')).status).toBe(200);
    expect((await get(pair.coordinatorHttp, '/readyz')).status).toBe(200);
  });

  it('deploy/probes - coordinator: /metrics passes promtool check metrics and exports every contract name', async () => {
    const { status, body } = await get(pair.coordinatorHttp, '/metrics');
    expect(status).toBe(200);
    const lint = promtoolCheckMetrics(body);
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
    for (const m of CONTRACT_METRICS.filter((x) => x.exporter === 'coordinator')) expect(body).toContain(`# TYPE ${m.name} ${m.type}`);
  });

  it('deploy/probes - worker: /healthz answers 200 and /metrics exports every contract name', async () => {
    expect((await get(pair.workerHttp, '/healthz')).status).toBe(200);
    const { status, body } = await get(pair.workerHttp, '/metrics');
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
