/**
 * The Grafana dashboard: the committed JSON is the generator's output, its structure is sound
 * (schema version, ids, grid, data sources, variables) and every query parses (promtool) and
 * names only contract metrics.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dashboard, Panel, QueryPanel } from '../../deploy/grafana/dashboard-builder.js';
import { DashboardBuilder } from '../../deploy/grafana/dashboard-builder.js';
import { buildNpfSweepDashboard } from '../../deploy/grafana/dashboard.js';
import { DASHBOARD_FILE, renderDashboardJson } from '../../deploy/grafana/dashboard-file.js';
import { CONTRACT_METRICS, NATS_EXPORTER_METRICS, SCRAPE_JOBS, contractSeriesNames, natsExporterMetricNamesIn } from '../../deploy/metrics-contract.js';
import { checkPromqlParses, npfMetricNamesIn, ROOT } from './tools.js';

const committed = JSON.parse(readFileSync(join(ROOT, DASHBOARD_FILE), 'utf8')) as Dashboard;
const queryPanels = committed.panels.filter((p): p is QueryPanel => p.type !== 'row');
const exprs = queryPanels.flatMap((p) => p.targets.map((t) => t.expr));

/** Grafana's variables replaced by values Prometheus accepts, as Grafana does before querying. */
function interpolate(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$sweep', '.*');
}

/** Grid cells (x, y) covered by more than one panel. */
function overlaps(panels: Panel[]): string[] {
  const taken = new Map<string, string>();
  const out: string[] = [];
  for (const p of panels) {
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        const key = `${x},${y}`;
        if (taken.has(key)) out.push(`'${p.title}' overlaps '${taken.get(key)}' at ${key}`);
        else taken.set(key, p.title);
      }
    }
  }
  return out;
}

describe('deploy/grafana - dashboard', () => {
  it('deploy/grafana - the committed npf-sweep.json is the generator output (npm run gen:dashboard)', () => {
    expect(readFileSync(join(ROOT, DASHBOARD_FILE), 'utf8')).toBe(renderDashboardJson(buildNpfSweepDashboard()));
  });

  it('deploy/grafana - schemaVersion, uid, unique panel ids, sane non-overlapping grid positions', () => {
    expect(committed.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(committed.uid).toBe('npf-sweep');
    const ids = committed.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of committed.panels) {
      const { x, y, w, h } = p.gridPos;
      for (const v of [x, y, w, h]) expect(Number.isInteger(v), p.title).toBe(true);
      expect(x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= 24, `${p.title} ${JSON.stringify(p.gridPos)}`).toBe(true);
    }
    expect(overlaps(committed.panels)).toEqual([]);
  });

  it('deploy/grafana - the overlap check bites', () => {
    const p = structuredClone(committed.panels.slice(1, 3));
    p[1].gridPos = { ...p[0].gridPos };
    expect(overlaps(p)).not.toEqual([]);
  });

  it('deploy/grafana - every query panel has the datasource variable and targets with unique refIds', () => {
    expect(queryPanels.length).toBeGreaterThanOrEqual(15);
    for (const p of queryPanels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      expect(new Set(p.targets.map((t) => t.refId)).size, p.title).toBe(p.targets.length);
      for (const t of p.targets) {
        expect(t.datasource, p.title).toEqual(p.datasource);
        expect(t.expr.trim().length, p.title).toBeGreaterThan(0);
      }
    }
    for (const r of committed.panels.filter((p) => p.type === 'row')) expect('targets' in r, r.title).toBe(false);
  });

  it('deploy/grafana - every query parses (promtool, with $sweep and $__rate_interval filled in)', () => {
    const r = checkPromqlParses(exprs.map(interpolate));
    expect(r.stdout + r.stderr).toMatch(new RegExp(`SUCCESS: ${exprs.length} rules found`));
    expect(r.status).toBe(0);
  });

  it('deploy/grafana - the parse check bites on a broken query', () => {
    const r = checkPromqlParses(['sum(rate(npf_leases_granted_total[5m])']);
    expect(r.status).not.toBe(0);
  });

  it('deploy/grafana - every metric a query names is a contract metric', () => {
    const known = contractSeriesNames();
    const unknown = exprs.flatMap((e) => npfMetricNamesIn(e).filter((n) => !known.has(n)).map((n) => `${n} in ${e}`));
    expect(unknown).toEqual([]);
  });

  it('deploy/grafana - every NATS exporter series a query names is a known exporter series, on the npf-nats job', () => {
    const known = new Set(NATS_EXPORTER_METRICS.map((m) => m.name));
    const natsExprs = exprs.filter((e) => natsExporterMetricNamesIn(e).length > 0);
    expect(natsExprs.length).toBeGreaterThanOrEqual(3);
    for (const e of natsExprs) {
      for (const n of natsExporterMetricNamesIn(e)) expect(known.has(n), `${n} in ${e}`).toBe(true);
      expect(e, 'scoped to the exporter job').toContain(`job="${SCRAPE_JOBS.nats}"`);
    }
    expect(natsExporterMetricNamesIn('rate(gnatsd_varz_in_msg[1m]) + jetstream_stream_total_bytes')).toEqual(['gnatsd_varz_in_msg', 'jetstream_stream_total_bytes']);
  });

  it('deploy/grafana - the panels cover progress, throughput, epochs, failures, workers and accuracy', () => {
    const used = new Set(exprs.flatMap(npfMetricNamesIn));
    for (const m of [
      'npf_sweep_cells_complete', 'npf_sweep_cells_total', 'npf_sweep_tasks', 'npf_tasks',
      'npf_task_duration_seconds_count', 'npf_worker_examples_per_second',
      'npf_epoch_duration_seconds_bucket', 'npf_worker_epoch_duration_seconds_bucket',
      'npf_task_retries_total', 'npf_leases_expired_total', 'npf_worker_trial_failures_total',
      'npf_workers_connected', 'npf_resource_used', 'npf_resource_capacity',
      'npf_trial_best_test_accuracy_bucket', 'npf_trial_best_test_accuracy_sum', 'npf_trial_best_test_accuracy_count',
      'npf_nats_events_dropped_total', 'npf_nats_disconnects_total',
    ]) {
      expect(used, m).toContain(m);
    }
  });

  it('deploy/grafana - datasource and sweep variables exist; every query on a sweep-labelled metric filters by $sweep', () => {
    const vars = Object.fromEntries(committed.templating.list.map((v) => [v.name, v]));
    expect(vars.datasource.type).toBe('datasource');
    expect(vars.datasource.query).toBe('prometheus');
    expect(vars.sweep.type).toBe('query');
    expect(vars.sweep.definition).toBe('label_values(npf_sweep_cells_total, sweep)');
    expect(vars.sweep.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    const sweepMetrics = CONTRACT_METRICS.filter((m) => m.labels.includes('sweep')).map((m) => m.name);
    const sweepExprs = exprs.filter((e) => npfMetricNamesIn(e).some((n) => sweepMetrics.some((m) => n === m || n.startsWith(`${m}_`))));
    expect(sweepExprs.length).toBeGreaterThan(0);
    for (const e of sweepExprs) {
      for (const sel of e.match(/npf_[a-z_]+\{[^}]*\}|npf_[a-z_]+(?!\{)/g) ?? []) {
        const name = sel.replace(/\{.*$/, '');
        if (sweepMetrics.some((m) => name === m || name.startsWith(`${m}_`))) expect(sel, e).toContain('sweep=~"$sweep"');
      }
    }
  });

  it('deploy/grafana - the builder lays panels out left to right and wraps', () => {
    const d = new DashboardBuilder()
      .row('r')
      .panel({ type: 'stat', title: 'a', description: '', queries: [{ expr: 'up' }], w: 16, h: 4 })
      .panel({ type: 'stat', title: 'b', description: '', queries: [{ expr: 'up' }], w: 8, h: 6 })
      .panel({ type: 'stat', title: 'c', description: '', queries: [{ expr: 'up' }], w: 12 })
      .build({ uid: 'u', title: 't', description: '', tags: [], version: 1, editable: true, graphTooltip: 0, refresh: '', time: { from: 'now-1h', to: 'now' }, timezone: '', templating: { list: [] } });
    expect(d.panels.map((p) => p.gridPos)).toEqual([
      { h: 1, w: 24, x: 0, y: 0 },
      { h: 4, w: 16, x: 0, y: 1 },
      { h: 6, w: 8, x: 16, y: 1 },
      { h: 8, w: 12, x: 0, y: 7 },
    ]);
    expect(() => new DashboardBuilder().panel({ type: 'stat', title: 'x', description: '', queries: [], w: 25 })).toThrow(/bad size/);
  });
});
