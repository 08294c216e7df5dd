/**
 * The real Prometheus server (Debian package `prometheus`, /usr/bin/prometheus) scrapes a real
 * coordinator and worker under the contract's job names (npf-coordinator, npf-worker), ingests
 * every npf series their /metrics expose, and loads and evaluates deploy/prometheus/npf-rules.yml
 * with every rule healthy. Skipped only when /usr/bin/prometheus is absent (.ci/run installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_STATES } from '../../coordinator/task-state.js';
import { SCRAPE_JOBS } from '../../deploy/metrics-contract.js';
import { parseRuleGroups, RULES_FILE } from '../../deploy/prometheus/prometheus-rule.js';
import { freePort } from '../e2e/harness.js';
import { httpGet, PAIR_WORKER_RESOURCES, startNpfPair, type NpfPair } from './npf-pair.js';
import { ROOT } from './tools.js';

const PROMETHEUS = '/usr/bin/prometheus';
const SKIP_REASON = existsSync(PROMETHEUS) ? undefined : `${PROMETHEUS} is absent (apt-get install prometheus; .ci/run installs it)`;
if (SKIP_REASON) console.warn(`test/deploy/prometheus-scrape.test.ts skipped: ${SKIP_REASON}`);

/** Safety net for each wait on Prometheus (not a timing assertion). */
const WAIT_LIMIT_MS = 30_000;
const RULES = join(ROOT, RULES_FILE);
const ruleGroups = parseRuleGroups(readFileSync(RULES, 'utf8'));

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

let pair: NpfPair | undefined;
let promDir: string | undefined;
let prom: ChildProcess | undefined;
let promExited: Promise<void> | undefined;
let promStderr = '';
let promAddress = '';

function promTail(): string {
  return `--- prometheus (pid ${prom?.pid ?? '?'}) stderr, last lines:\n${promStderr.split('\n').slice(-25).join('\n')}`;
}

/** GET a Prometheus API path and return `data`; a non-success answer throws with its error text. */
async function promApi<T>(path: string): Promise<T> {
  const res = await fetch(`http://${promAddress}${path}`);
  const body = (await res.json()) as { status: string; data?: T; errorType?: string; error?: string };
  if (body.status !== 'success') throw new Error(`GET ${path}: ${res.status} ${body.errorType ?? ''}: ${body.error ?? ''}`);
  return body.data as T;
}

/** An instant query's vector result. */
async function query(promql: string): Promise<Sample[]> {
  const data = await promApi<{ resultType: string; result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
  if (data.resultType !== 'vector') throw new Error(`query ${promql}: expected a vector, got ${data.resultType}`);
  return data.result;
}

/**
 * Poll `check` (it returns null when satisfied, else what is still missing) every 250 ms; after
 * WAIT_LIMIT_MS fail naming what was awaited, what was still missing, and Prometheus's stderr.
 */
async function waitForProm(what: string, check: () => Promise<string | null>): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  let missing: string | null = 'not checked yet';
  for (;;) {
    if (prom && (prom.exitCode !== null || prom.signalCode !== null)) {
      throw new Error(`prometheus exited (${prom.exitCode ?? prom.signalCode}) while waiting for ${what}\n${promTail()}`);
    }
    try {
      missing = await check();
    } catch (e) {
      missing = (e as Error).message;
    }
    if (missing === null) return;
    if (Date.now() > deadline) throw new Error(`gave up after ${WAIT_LIMIT_MS / 1000} s waiting for ${what}: ${missing}\n${promTail()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The npf_* sample names (histograms as _bucket/_sum/_count) in a /metrics text. */
function npfSampleNames(metricsText: string): string[] {
  const names = new Set<string>();
  for (const line of metricsText.split('\n')) {
    const m = /^(npf_[a-zA-Z0-9_]+)[{ ]/.exec(line);
    if (m) names.add(m[1]);
  }
  return [...names].sort();
}

/** Names of the npf series Prometheus holds for `job` (empty until the first scrape lands). */
async function ingestedNames(job: string): Promise<string[]> {
  const result = await query(`count by (__name__) ({job="${job}", __name__=~"npf_.+"})`);
  return result.map((s) => s.metric.__name__).sort();
}

/** The single sample of `promql`, as a number (undefined when there is none yet). */
async function single(promql: string): Promise<number | undefined> {
  const r = await query(promql);
  if (r.length > 1) throw new Error(`${promql}: expected one series, got ${r.length}`);
  return r.length === 1 ? Number(r[0].value[1]) : undefined;
}

describe.skipIf(SKIP_REASON !== undefined)('deploy/prometheus-scrape - the real Prometheus scrapes a real coordinator and worker', () => {
  beforeAll(async () => {
    pair = await startNpfPair('prometheus-scrape');
    promDir = mkdtempSync(join(tmpdir(), 'npf-prometheus-'));
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: [RULES],
      scrape_configs: [
        { job_name: SCRAPE_JOBS.coordinator, metrics_path: '/metrics', static_configs: [{ targets: [pair.coordinatorHttp] }] },
        { job_name: SCRAPE_JOBS.worker, metrics_path: '/metrics', static_configs: [{ targets: [pair.workerHttp] }] },
      ],
    };
    const configFile = join(promDir, 'prometheus.yml');
    writeFileSync(configFile, stringify(config));
    promAddress = `127.0.0.1:${await freePort()}`;
    prom = spawn(
      PROMETHEUS,
      [`--config.file=${configFile}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=${promAddress}`],
      { cwd: promDir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const child = prom;
    promExited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (promStderr += d));
    await waitForProm(`Prometheus ready on ${promAddress}`, async () => {
      const r = await httpGet(promAddress, '/-/ready');
      return r.status === 200 ? null : `/-/ready answered ${r.status}`;
    });
  }, 2 * WAIT_LIMIT_MS);

  afterAll(async () => {
    try {
      if (prom?.pid !== undefined && prom.exitCode === null && prom.signalCode === null) {
        process.kill(prom.pid, 'SIGKILL');
        await promExited;
      }
    } finally {
      if (promDir) rmSync(promDir, { recursive: true, force: true });
      await pair?.stop();
    }
  });

  it('deploy/prometheus-scrape - both jobs are up (up == 1 for npf-coordinator and npf-worker)', async () => {
    const expected = { [SCRAPE_JOBS.coordinator]: pair!.coordinatorHttp, [SCRAPE_JOBS.worker]: pair!.workerHttp };
    await waitForProm('up == 1 for both npf jobs', async () => {
      const up = await query('up');
      const missing = Object.entries(expected).filter(
        ([job, instance]) => !up.some((s) => s.metric.job === job && s.metric.instance === instance && s.value[1] === '1'),
      );
      return missing.length === 0 ? null : `not up yet: ${missing.map(([j, i]) => `${j} (${i})`).join(', ')}; up = ${JSON.stringify(up.map((s) => [s.metric, s.value[1]]))}`;
    });
    const up = await query('up');
    expect(up.map((s) => s.metric.job).sort()).toEqual([SCRAPE_JOBS.coordinator, SCRAPE_JOBS.worker].sort());
  }, 2 * WAIT_LIMIT_MS);

  it('deploy/prometheus-scrape - Prometheus holds every npf series each /metrics endpoint exposes, under its job', async () => {
    for (const [job, address] of [[SCRAPE_JOBS.coordinator, pair!.coordinatorHttp], [SCRAPE_JOBS.worker, pair!.workerHttp]] as const) {
      const exposed = npfSampleNames((await httpGet(address, '/metrics')).body);
      expect(exposed.length, `${job}: npf samples on /metrics`).toBeGreaterThan(0);
      await waitForProm(`every npf series of ${job} in Prometheus`, async () => {
        const have = new Set(await ingestedNames(job));
        const missing = exposed.filter((n) => !have.has(n));
        return missing.length === 0 ? null : `${job} is missing ${missing.join(', ')}`;
      });
    }
    const coordinatorNames = await ingestedNames(SCRAPE_JOBS.coordinator);
    for (const n of ['npf_tasks', 'npf_workers_connected', 'npf_resource_capacity', 'npf_leases_granted_total']) expect(coordinatorNames).toContain(n);
    expect(await ingestedNames(SCRAPE_JOBS.worker)).toContain('npf_worker_trials_running');
  }, 4 * WAIT_LIMIT_MS);

  it('deploy/prometheus-scrape - the scraped values describe one idle worker: connected, its capacity, no tasks, no trials running', async () => {
    const c = `job="${SCRAPE_JOBS.coordinator}"`;
    await waitForProm('npf_workers_connected == 1 in Prometheus', async () => {
      const v = await single(`npf_workers_connected{${c}}`);
      return v === 1 ? null : `npf_workers_connected = ${v}`;
    });
    expect(await single(`npf_resource_capacity{${c}, resource="cpu"}`)).toBe(PAIR_WORKER_RESOURCES.cpu);
    expect(await single(`npf_resource_capacity{${c}, resource="memory_mb"}`)).toBe(PAIR_WORKER_RESOURCES.memoryMb);
    const tasks = await query(`npf_tasks{${c}}`);
    expect(tasks.map((s) => s.metric.state).sort()).toEqual([...TASK_STATES].sort());
    for (const s of tasks) expect(s.value[1], `npf_tasks{state="${s.metric.state}"}`).toBe('0');
    expect(await single(`npf_worker_trials_running{job="${SCRAPE_JOBS.worker}"}`)).toBe(0);
  }, 2 * WAIT_LIMIT_MS);

  it('deploy/prometheus-scrape - /api/v1/rules lists the npf rule groups from npf-rules.yml, every rule evaluated with health "ok"', async () => {
    type ApiRule = { name: string; health: string; lastError?: string; type: string };
    type ApiGroup = { name: string; file: string; rules: ApiRule[] };
    let groups: ApiGroup[] = [];
    await waitForProm('every npf rule evaluated with health "ok"', async () => {
      groups = (await promApi<{ groups: ApiGroup[] }>('/api/v1/rules')).groups;
      const notOk = groups.flatMap((g) => g.rules.filter((r) => r.health !== 'ok').map((r) => `${g.name}/${r.name}: ${r.health} ${r.lastError ?? ''}`));
      if (groups.length === 0) return 'no rule groups loaded';
      return notOk.length === 0 ? null : `rules not ok: ${notOk.join('; ')}`;
    });
    expect(groups.map((g) => g.name).sort()).toEqual(ruleGroups.map((g) => g.name).sort());
    for (const g of groups) {
      expect(g.file).toBe(RULES);
      expect(g.rules.length, g.name).toBe(ruleGroups.find((x) => x.name === g.name)!.rules.length);
      for (const r of g.rules) expect(r.lastError ?? '', `${g.name}/${r.name}`).toBe('');
    }
  }, 2 * WAIT_LIMIT_MS);

  it('deploy/prometheus-scrape - a recording rule yields series from the scraped data (npf:resource_used:ratio per resource)', async () => {
    await waitForProm('npf:resource_used:ratio for cpu, gpu and memory_mb', async () => {
      const r = await query('npf:resource_used:ratio');
      const resources = r.map((s) => s.metric.resource).sort();
      return resources.join(',') === 'cpu,gpu,memory_mb' ? null : `npf:resource_used:ratio has resources [${resources.join(', ')}]`;
    });
    // Idle worker: nothing used, so the ratio is 0 for every resource.
    for (const s of await query('npf:resource_used:ratio')) expect(s.value[1], s.metric.resource).toBe('0');
  }, 2 * WAIT_LIMIT_MS);
});
