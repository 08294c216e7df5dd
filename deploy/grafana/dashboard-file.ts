/** Where the generated dashboard lives and how it is serialised (stable, diff-friendly JSON). */
import type { Dashboard } from './dashboard-builder.js';

export const DASHBOARD_FILE = 'deploy/grafana/npf-sweep.json';

export function renderDashboardJson(dashboard: Dashboard): string {
  return JSON.stringify(dashboard, null, 2) + '\n';
}
