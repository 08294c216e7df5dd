/**
 * Every way the manifests are meant to be rendered: the two overlays, each component on an
 * overlay (a temporary kustomization that adds it), the submit Job (with and without TLS) and the
 * monitoring objects. Rendered once per test file with the real `kubectl kustomize`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { kustomize, ROOT, type K8sObject } from './tools.js';

/** A pod-running render: what `kubectl apply -k` would create for an overlay (and components). */
export interface Variant {
  name: string;
  overlay: 'cpu' | 'gpu' | 'gpu-webgpu';
  components: string[];
}

export const VARIANTS: readonly Variant[] = [
  { name: 'cpu', overlay: 'cpu', components: [] },
  { name: 'gpu', overlay: 'gpu', components: [] },
  { name: 'gpu-webgpu', overlay: 'gpu-webgpu', components: [] },
  { name: 'cpu + keda', overlay: 'cpu', components: ['keda'] },
  { name: 'gpu + tls', overlay: 'gpu', components: ['tls'] },
  { name: 'cpu + tls + read-write-once-pod', overlay: 'cpu', components: ['tls', 'read-write-once-pod'] },
];

/** Every component directory under deploy/k8s/components (the tests check each is rendered). */
export const COMPONENTS = ['keda', 'tls', 'tls-client', 'read-write-once-pod'] as const;

/** `kubectl kustomize` of a temporary kustomization: `resources` plus `components` (repo paths). */
export function kustomizeComposed(resources: string[], components: string[], extra: Record<string, unknown> = {}): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'npf-kustomize-'));
  try {
    const rel = (p: string) => relative(dir, join(ROOT, p));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: resources.map(rel), components: components.map(rel), ...extra }),
    );
    return kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderVariant(v: Variant): K8sObject[] {
  if (v.components.length === 0) return kustomize(`deploy/k8s/overlays/${v.overlay}`);
  // As if the components were added to the overlay's own list (which sets namespace npf).
  return kustomizeComposed([`deploy/k8s/overlays/${v.overlay}`], v.components.map((c) => `deploy/k8s/components/${c}`), { namespace: 'npf' });
}

/** The submit Job as deploy/k8s/jobs renders it, optionally with components/tls-client. */
export function renderJobs(tls: boolean): K8sObject[] {
  if (!tls) return kustomize('deploy/k8s/jobs');
  return kustomizeComposed(['deploy/k8s/jobs'], ['deploy/k8s/components/tls-client'], { namespace: 'npf' });
}

/* eslint-disable @typescript-eslint/no-explicit-any -- walking untyped rendered YAML */

export function find(objects: K8sObject[], kind: string, name: string): any {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

export function container(workload: any, name: string): any {
  const c = workload.spec.template.spec.containers.find((x: any) => x.name === name);
  if (!c) throw new Error(`${workload.kind}/${workload.metadata.name} has no container ${name}`);
  return c;
}

/** Workloads with a pod template. */
export function workloads(objects: K8sObject[]): any[] {
  return objects.filter((o) => ['Deployment', 'StatefulSet', 'Job', 'DaemonSet', 'CronJob'].includes(o.kind));
}

/** The value following `flag` in an args list. */
export function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A container's env value by name (literal values only). */
export function envValue(c: any, name: string): string | undefined {
  return c.env?.find((e: any) => e.name === name)?.value;
}

/** Kubernetes quantity to a number (bytes for memory/storage, cores for cpu). */
export function quantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?)(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/.exec(q);
  if (!m) throw new Error(`unparsed quantity ${q}`);
  const scale: Record<string, number> = { m: 1e-3, k: 1e3, Ki: 1024, M: 1e6, Mi: 1024 ** 2, G: 1e9, Gi: 1024 ** 3, T: 1e12, Ti: 1024 ** 4 };
  return Number(m[1]) * (m[2] ? scale[m[2]] : 1);
}
