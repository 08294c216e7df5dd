/**
 * Helpers for the deploy tests: run kubectl/promtool (the real binaries), parse the rendered
 * YAML, and name the PromQL metrics an expression uses.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run a binary to completion; a missing binary is a clear failure naming what to install. */
export function runTool(bin: string, args: string[], install: string): ToolRun {
  const r = spawnSync(bin, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${bin} is not installed: ${install}` : `${bin} ${args.join(' ')}: ${r.error.message}`);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** kubectl from $KUBECTL or PATH (1.27+: the manifests use kustomize v5 syntax; .ci/run checks). */
export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [key: string]: unknown };

/** `kubectl kustomize <dir>` parsed into objects. */
export function kustomize(dir: string): K8sObject[] {
  const r = runTool(KUBECTL, ['kustomize', dir], 'kubectl 1.27+ (or set $KUBECTL)');
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed (${r.status}):\n${r.stderr}`);
  return parseYamlStream(r.stdout);
}

export function parseYamlStream(text: string): K8sObject[] {
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`YAML document ${i}: ${doc.errors[0].message}`);
    return doc.toJS() as K8sObject;
  }).filter((o) => o !== null && o !== undefined);
}

export function promtool(args: string[]): ToolRun {
  return runTool('promtool', args, 'apt-get install prometheus (it ships promtool)');
}

/**
 * Check that PromQL expressions parse, with the real parser: write them as recording rules to a
 * temporary rule file and run `promtool check rules` on it.
 */
export function checkPromqlParses(exprs: readonly string[]): ToolRun {
  const dir = mkdtempSync(join(tmpdir(), 'npf-promql-'));
  try {
    const file = join(dir, 'exprs.yml');
    const rules = exprs.map((expr, i) => ({ record: `npf_dashboard:expr_${i}`, expr }));
    writeFileSync(file, stringify({ groups: [{ name: 'exprs', rules }] }));
    return promtool(['check', 'rules', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The npf metric series an expression names (`npf_...` identifiers). Every contract metric starts
 * with `npf_`; recording rules use `npf:` and are not matched.
 */
export function npfMetricNamesIn(expr: string): string[] {
  return [...new Set(expr.match(/(?<![A-Za-z0-9_:])npf_[a-z0-9_]+(?![A-Za-z0-9_:])/g) ?? [])];
}
