/**
 * The Prometheus rules parse (`promtool check rules`), fire when they should (`promtool test
 * rules` on npf-rules.test.yml), name only contract metrics, and the scrape example is valid.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { contractSeriesNames, SCRAPE_JOBS } from '../../deploy/metrics-contract.js';
import { parseRuleGroups, RULES_FILE } from '../../deploy/prometheus/prometheus-rule.js';
import { npfMetricNamesIn, promtool, ROOT } from './tools.js';

const RULES = join(ROOT, RULES_FILE);
const RULES_TEST = join(ROOT, 'deploy/prometheus/npf-rules.test.yml');
const rulesText = readFileSync(RULES, 'utf8');
const groups = parseRuleGroups(rulesText);
const rules = groups.flatMap((g) => g.rules) as { record?: string; alert?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];

/** The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
function githubAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

const tmpDirs: string[] = [];
afterEach(() => {
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temp copy of the rules and their unit tests, with `edit` applied to the rules. */
function copyWithEditedRules(edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'npf-rules-'));
  tmpDirs.push(dir);
  writeFileSync(join(dir, 'npf-rules.yml'), edit(rulesText));
  copyFileSync(RULES_TEST, join(dir, 'npf-rules.test.yml'));
  return dir;
}

describe('deploy/prometheus - rules', () => {
  it('deploy/prometheus - promtool check rules accepts npf-rules.yml', () => {
    const r = promtool(['check', 'rules', RULES]);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('deploy/prometheus - promtool test rules: the alerts fire on the synthetic histories and stay quiet otherwise', () => {
    const r = promtool(['test', 'rules', RULES_TEST]);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
    // The unit-test file covers at least these alerts.
    const tested = new Set([...readFileSync(RULES_TEST, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    // Every alert has a unit test (each case of the coordinator alerts, the missing target included).
    for (const a of rules.filter((r) => r.alert)) expect(tested, a.alert).toContain(a.alert);
  });

  it('deploy/prometheus - the unit tests bite: a rule that no longer fires makes promtool test rules fail', () => {
    const dir = copyWithEditedRules((t) => t.replace('expr: up{job="npf-coordinator"} == 0', 'expr: up{job="npf-coordinator"} == 2'));
    const r = promtool(['test', 'rules', join(dir, 'npf-rules.test.yml')]);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/NpfCoordinatorDown/);
  });

  it('deploy/prometheus - promtool check rules refuses a rule that does not parse', () => {
    const dir = copyWithEditedRules((t) => t.replace('expr: up{job="npf-coordinator"} == 0', 'expr: up{job="npf-coordinator" == 0'));
    const r = promtool(['check', 'rules', join(dir, 'npf-rules.yml')]);
    expect(r.status).not.toBe(0);
  });

  it('deploy/prometheus - the required alerts exist with a severity, a summary and a description', () => {
    const alerts = rules.filter((r) => r.alert);
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining(['NpfCoordinatorDown', 'NpfCoordinatorMissing', 'NpfNoWorkers', 'NpfLeaseExpiryRateHigh', 'NpfTasksFailing', 'NpfSweepStalled', 'NpfNatsEventsDropped', 'NpfNatsDown']),
    );
    for (const a of alerts) {
      expect(['critical', 'warning', 'info'], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary?.length ?? 0, a.alert).toBeGreaterThan(10);
      expect(a.annotations?.description?.length ?? 0, a.alert).toBeGreaterThan(40);
    }
    expect(alerts.find((a) => a.alert === 'NpfCoordinatorDown')!.expr).toBe(`up{job="${SCRAPE_JOBS.coordinator}"} == 0`);
    // A missing target has no `up` series at all: only absent() sees it.
    expect(alerts.find((a) => a.alert === 'NpfCoordinatorMissing')!.expr).toBe(`absent(up{job="${SCRAPE_JOBS.coordinator}"})`);
    expect(alerts.find((a) => a.alert === 'NpfNatsEventsDropped')!.expr).toContain('npf_nats_events_dropped_total');
  });

  it('deploy/prometheus - every alert links a runbook section that exists in docs/runbooks.md', () => {
    const runbooks = readFileSync(join(ROOT, 'docs/runbooks.md'), 'utf8');
    const anchors = new Set([...runbooks.matchAll(/^#{1,6} (.+)$/gm)].map((m) => githubAnchor(m[1])));
    for (const a of rules.filter((r) => r.alert)) {
      const url = a.annotations?.runbook_url ?? '';
      expect(url, a.alert).toBe(`docs/runbooks.md#${githubAnchor(a.alert!)}`);
      expect(anchors.has(url.split('#')[1]), `${a.alert}: anchor ${url}`).toBe(true);
    }
    // Links from the manifests' comments resolve too.
    for (const f of ['deploy/k8s/base/pod-disruption-budgets.yaml', 'deploy/k8s/components/tls/kustomization.yaml']) {
      for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/docs\/runbooks\.md#([a-z0-9-]+)/g)) expect(anchors.has(m[1]), `${f}: #${m[1]}`).toBe(true);
    }
    expect(githubAnchor("Draining the coordinator's node")).toBe('draining-the-coordinators-node');
  });

  it('deploy/prometheus - every metric the rules name is a contract metric, every npf: series a recorded rule', () => {
    const known = contractSeriesNames();
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    for (const r of rules) {
      for (const name of npfMetricNamesIn(r.expr)) expect(known.has(name), `${r.record ?? r.alert}: ${name}`).toBe(true);
      for (const m of r.expr.matchAll(/npf:[a-z0-9_:]+/g)) expect(recorded.has(m[0]), `${r.record ?? r.alert}: ${m[0]}`).toBe(true);
      if (r.record) expect(r.record).toMatch(/^npf:[a-z0-9_]+:[a-z0-9_]+$/);
    }
  });

  it('deploy/prometheus - the metric-name check bites on a name outside the contract', () => {
    const known = contractSeriesNames();
    expect(npfMetricNamesIn('sum(rate(npf_tasks_total[5m])) / npf:x:y').filter((n) => !known.has(n))).toEqual(['npf_tasks_total']);
    expect(known.has('npf_epoch_duration_seconds')).toBe(false); // a histogram is queried by its _bucket/_sum/_count
  });
});

describe('deploy/prometheus - scrape configuration', () => {
  it('deploy/prometheus - promtool check config accepts the non-Kubernetes example and its rule file', () => {
    const r = promtool(['check', 'config', join(ROOT, 'deploy/prometheus/prometheus.yml')]);
    expect(r.stdout + r.stderr).toMatch(/is valid prometheus config/);
    expect(r.status).toBe(0);
    const text = readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8');
    expect(text).toContain(`job_name: ${SCRAPE_JOBS.coordinator}`);
    expect(text).toContain(`job_name: ${SCRAPE_JOBS.worker}`);
    // The Kubernetes example names the NATS exporter's job the way the rules expect.
    expect(readFileSync(join(ROOT, 'deploy/prometheus/prometheus-kubernetes.yml'), 'utf8')).toMatch(/regex: coordinator\|worker\|nats\n/);
    expect(SCRAPE_JOBS.nats).toBe('npf-nats');
    expect(text).toContain("'localhost:9464'");
    expect(text).toContain("'localhost:9465'");
  });
});
