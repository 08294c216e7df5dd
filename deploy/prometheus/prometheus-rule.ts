/**
 * Wraps the Prometheus rule file (deploy/prometheus/npf-rules.yml) into a Prometheus-operator
 * PrometheusRule (monitoring.coreos.com/v1), so the operator and a plain Prometheus load the same
 * rules from one source.
 */
import { parse, stringify } from 'yaml';

/** Names and paths shared by the generator and the tests. */
export const RULES_FILE = 'deploy/prometheus/npf-rules.yml';
export const PROMETHEUS_RULE_FILE = 'deploy/k8s/monitoring/prometheus-rule.yaml';

export interface RuleGroup {
  name: string;
  rules: Record<string, unknown>[];
}

/** Thrown when the rule file is not `{ groups: [{ name, rules: [...] }] }`. */
export class RuleFileError extends Error {
  override readonly name = 'RuleFileError';
}

/** Parse a Prometheus rule file's text into its groups, checking the outer shape. */
export function parseRuleGroups(text: string, file = RULES_FILE): RuleGroup[] {
  const doc = parse(text) as unknown;
  const groups = (doc as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(groups) || groups.length === 0) throw new RuleFileError(`${file}: expected a non-empty 'groups' list`);
  groups.forEach((g: unknown, i) => {
    const group = g as { name?: unknown; rules?: unknown };
    if (typeof group?.name !== 'string' || !Array.isArray(group.rules)) {
      throw new RuleFileError(`${file}: groups[${i}] needs a string 'name' and a 'rules' list`);
    }
  });
  return groups as RuleGroup[];
}

/** The PrometheusRule object for the given groups. */
export function prometheusRule(groups: RuleGroup[]): Record<string, unknown> {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'npf-sweep',
      labels: { 'app.kubernetes.io/name': 'npf-sweep', 'app.kubernetes.io/component': 'monitoring', release: 'prometheus' },
    },
    spec: { groups },
  };
}

/** The generated YAML file's text (with a do-not-edit header). */
export function renderPrometheusRuleYaml(rulesText: string): string {
  const header = `# Generated from ${RULES_FILE} by \`npm run gen:dashboard\`; do not edit by hand.\n`;
  return header + stringify(prometheusRule(parseRuleGroups(rulesText)), { lineWidth: 0 });
}
