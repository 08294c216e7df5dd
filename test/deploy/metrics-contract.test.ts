/**
 * The metric list the rules and the dashboard are checked against (deploy/metrics-contract.ts)
 * is what the coordinator and the worker really register: same names, types and labels.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CoordinatorMetrics } from '../../coordinator/metrics.js';
import { CONTRACT_METRICS } from '../../deploy/metrics-contract.js';
import { createWorkerMetrics } from '../../worker/metrics.js';

interface Registered {
  name: string;
  type: string;
  labels: string[];
}

async function registered(registry: Registry): Promise<Registered[]> {
  const json = await registry.getMetricsAsJSON();
  return json
    .map((m) => {
      const metric = registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] };
      return { name: m.name, type: String(m.type), labels: [...(metric.labelNames ?? [])].sort() };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function expected(exporter: 'coordinator' | 'worker'): Registered[] {
  return CONTRACT_METRICS.filter((m) => m.exporter === exporter)
    .map((m) => ({ name: m.name, type: m.type, labels: [...m.labels].sort() }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('deploy/metrics-contract - the deploy artefacts name the metrics the processes export', () => {
  it('deploy/metrics-contract - coordinator metrics match the contract list', async () => {
    const registry = new Registry();
    new CoordinatorMetrics(registry);
    expect(await registered(registry)).toEqual(expected('coordinator'));
  });

  it('deploy/metrics-contract - worker metrics match the contract list', async () => {
    const registry = new Registry();
    createWorkerMetrics(registry);
    expect(await registered(registry)).toEqual(expected('worker'));
  });
});
