/**
 * `npm run gen:dashboard`: writes the generated monitoring artefacts from their sources:
 * - deploy/grafana/npf-sweep.json from deploy/grafana/dashboard.ts,
 * - deploy/k8s/monitoring/prometheus-rule.yaml from deploy/prometheus/npf-rules.yml.
 * Run from the repository root. Tests fail when the committed files differ from these outputs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildNpfSweepDashboard } from './grafana/dashboard.js';
import { DASHBOARD_FILE, renderDashboardJson } from './grafana/dashboard-file.js';
import { PROMETHEUS_RULE_FILE, RULES_FILE, renderPrometheusRuleYaml } from './prometheus/prometheus-rule.js';

function main(root: string): void {
  writeFileSync(resolve(root, DASHBOARD_FILE), renderDashboardJson(buildNpfSweepDashboard()));
  console.log(`wrote ${DASHBOARD_FILE}`);
  writeFileSync(resolve(root, PROMETHEUS_RULE_FILE), renderPrometheusRuleYaml(readFileSync(resolve(root, RULES_FILE), 'utf8')));
  console.log(`wrote ${PROMETHEUS_RULE_FILE}`);
}

main(process.cwd());
