/**
 * The Kubernetes manifests render with the real `kubectl kustomize`, every object is valid against
 * the Kubernetes schemas, and the wiring the runtime contract needs is there (ports, probes,
 * token Secret, drain grace, GPUs, NATS, dashboard and rules ConfigMaps, monitoring objects).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildNpfSweepDashboard } from '../../deploy/grafana/dashboard.js';
import { renderDashboardJson } from '../../deploy/grafana/dashboard-file.js';
import { PROMETHEUS_RULE_FILE, RULES_FILE, parseRuleGroups, renderPrometheusRuleYaml } from '../../deploy/prometheus/prometheus-rule.js';
import { hasModel, validateK8sObject } from './k8s-schema.js';
import { ROOT, kustomize, parseYamlStream, type K8sObject } from './tools.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- walking untyped rendered YAML */

const OVERLAYS = ['cpu', 'gpu', 'gpu-webgpu'] as const;
const rendered: Record<string, K8sObject[]> = {};

function find(objects: K8sObject[], kind: string, name: string): any {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

function container(workload: any, name: string): any {
  const c = workload.spec.template.spec.containers.find((x: any) => x.name === name);
  if (!c) throw new Error(`${workload.kind}/${workload.metadata.name} has no container ${name}`);
  return c;
}

/** The value following `flag` in an args list. */
function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The container port number a probe's named (or numbered) port points at. */
function probePort(c: any, probe: any): number {
  const port = probe.httpGet.port;
  if (typeof port === 'number') return port;
  const p = c.ports.find((x: any) => x.name === port);
  if (!p) throw new Error(`probe port ${port} is not a port of container ${c.name}`);
  return p.containerPort;
}

/** The source of a file and of the project files it imports directly (shared option sets). */
function sourceWithImports(file: string): string {
  const source = readFileSync(file, 'utf8');
  const imported = [...source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)]
    .map((m) => join(dirname(file), `${m[1]}.ts`))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, 'utf8'));
  return [source, ...imported].join('\n');
}

/**
 * Flags in `args` (`<command> --flag value ...`) that cli/commands/<command>.ts (or a module it
 * imports) does not define, as a node:util parseArgs option `flag: {` / `'flag': {`, or as the
 * literal '--flag'.
 */
function unknownCliFlags(args: string[]): string[] {
  const file = join(ROOT, 'cli/commands', `${args[0]}.ts`);
  if (!existsSync(file)) return [`cli/commands/${args[0]}.ts is missing (the '${args[0]}' command)`];
  const source = sourceWithImports(file);
  return args
    .filter((a) => a.startsWith('--'))
    .filter((flag) => {
      const name = flag.slice(2).replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&');
      return !new RegExp(`(^|[\\s{,])(${name}|'${name}'|"${name}")\\s*:\\s*\\{`, 'm').test(source) && !source.includes(`'${flag}'`);
    })
    .map((flag) => `${args[0]} ${flag}`);
}

beforeAll(() => {
  for (const o of OVERLAYS) rendered[o] = kustomize(`deploy/k8s/overlays/${o}`);
  rendered.monitoring = kustomize('deploy/k8s/monitoring');
  rendered.jobs = kustomize('deploy/k8s/jobs');
});

describe('deploy/k8s - schema validation', () => {
  it.each(OVERLAYS)('deploy/k8s - every object of the %s overlay is valid against the Kubernetes schemas', (o) => {
    const objects = rendered[o];
    expect(objects.map((x) => `${x.kind}/${x.metadata.name}`).sort()).toEqual([
      'ConfigMap/npf-grafana-dashboard',
      'ConfigMap/npf-prometheus-rules',
      'Deployment/npf-coordinator',
      'Deployment/npf-worker',
      'PersistentVolumeClaim/npf-coordinator-data',
      'Service/nats',
      'Service/npf-coordinator',
      'Service/npf-worker',
      'StatefulSet/nats',
    ]);
    for (const obj of objects) {
      expect(hasModel(obj), `${obj.kind}`).toBe(true);
      expect(validateK8sObject(obj)).toEqual([]);
      expect(obj.metadata.namespace, `${obj.kind}/${obj.metadata.name}`).toBe('npf');
    }
  });

  it('deploy/k8s - the submit Job is valid and submits a sweep that exists to npf-coordinator:7070', () => {
    const job = find(rendered.jobs, 'Job', 'npf-submit');
    expect(validateK8sObject(job)).toEqual([]);
    const args: string[] = container(job, 'submit').args;
    expect(args[0]).toBe('submit');
    expect(existsSync(join(ROOT, args[1])), `${args[1]} exists`).toBe(true);
    expect(flagValue(args, '--coordinator')).toBe('npf-coordinator:7070');
    expect(unknownCliFlags(args)).toEqual([]);
    expect(container(job, 'submit').env).toContainEqual({ name: 'NPF_TOKEN', valueFrom: { secretKeyRef: { name: 'npf-token', key: 'token' } } });
  });

  it('deploy/k8s - the validator bites: wrong types, missing required fields and misspelt fields are refused', () => {
    const worker = find(rendered.gpu, 'Deployment', 'npf-worker');
    const wrongType = structuredClone(worker);
    wrongType.spec.replicas = 'one';
    expect(validateK8sObject(wrongType).join('\n')).toMatch(/replicas must be integer/);

    const noName = structuredClone(worker);
    delete noName.spec.template.spec.containers[0].name;
    expect(validateK8sObject(noName).join('\n')).toMatch(/required property 'name'|required property name/);

    const misspelt = structuredClone(worker);
    misspelt.spec.template.spec.terminationGracePeriodSecond = 30;
    expect(validateK8sObject(misspelt)).toEqual(['Deployment/npf-worker: unknown field spec.template.spec.terminationGracePeriodSecond']);

    const badProbe = structuredClone(find(rendered.cpu, 'Deployment', 'npf-coordinator'));
    delete badProbe.spec.template.spec.containers[0].readinessProbe.httpGet.port;
    expect(validateK8sObject(badProbe).join('\n')).toMatch(/httpGet must have required property 'port'|httpGet must have required property port/);
  });

  it('deploy/k8s - a hand-written broken manifest fails to validate', () => {
    const [broken] = parseYamlStream(`
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: broken }
spec:
  serviceName: x
  selector: { matchLabels: { a: b } }
  template:
    metadata: { labels: { a: b } }
    spec:
      containers:
        - name: c
          image: i
          ports: [{ containerPort: "http" }]
`);
    expect(validateK8sObject(broken).join('\n')).toMatch(/containerPort must be integer/);
  });
});

describe.each(OVERLAYS)('deploy/k8s - %s overlay wiring', (o) => {
  const objects = () => rendered[o];

  it('deploy/k8s - coordinator: one replica, Recreate, data on the PVC, NATS flag, token Secret', () => {
    const dep = find(objects(), 'Deployment', 'npf-coordinator');
    expect(dep.spec.replicas).toBe(1);
    expect(dep.spec.strategy.type).toBe('Recreate');
    const c = container(dep, 'coordinator');
    expect(c.args[0]).toBe('coordinator');
    expect(flagValue(c.args, '--nats')).toBe('nats://nats:4222');
    const dataDir = flagValue(c.args, '--data-dir');
    const mount = c.volumeMounts.find((m: any) => m.mountPath === dataDir);
    expect(mount, `a volume mounted at --data-dir ${dataDir}`).toBeDefined();
    const volume = dep.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
    find(objects(), 'PersistentVolumeClaim', volume.persistentVolumeClaim.claimName);
    expect(c.env).toContainEqual({ name: 'NPF_TOKEN', valueFrom: { secretKeyRef: { name: 'npf-token', key: 'token' } } });
  });

  it('deploy/k8s - coordinator: probes on /readyz and /healthz at 9464, Service exposes gRPC 7070 and metrics 9464', () => {
    const dep = find(objects(), 'Deployment', 'npf-coordinator');
    const c = container(dep, 'coordinator');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(probePort(c, c.readinessProbe)).toBe(9464);
    expect(probePort(c, c.livenessProbe)).toBe(9464);
    const svc = find(objects(), 'Service', 'npf-coordinator');
    const byPort = Object.fromEntries(svc.spec.ports.map((p: any) => [p.port, p.targetPort]));
    expect(byPort).toEqual({ 7070: 'grpc', 9464: 'http-metrics' });
    const named = Object.fromEntries(c.ports.map((p: any) => [p.name, p.containerPort]));
    expect(named).toEqual({ grpc: 7070, 'http-metrics': 9464 });
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(dep.spec.template.metadata.labels[k]).toBe(v);
  });

  it('deploy/k8s - workers: grace period >= 30 s covers the 25 s drain; /healthz on 9465; token; coordinator address', () => {
    const dep = find(objects(), 'Deployment', 'npf-worker');
    const spec = dep.spec.template.spec;
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    const c = container(dep, 'worker');
    expect(c.args[0]).toBe('worker');
    expect(Number(flagValue(c.args, '--drain-grace-s'))).toBeLessThan(spec.terminationGracePeriodSeconds);
    expect(flagValue(c.args, '--coordinator')).toBe('npf-coordinator:7070');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(probePort(c, c.livenessProbe)).toBe(9465);
    expect(c.env).toContainEqual({ name: 'NPF_TOKEN', valueFrom: { secretKeyRef: { name: 'npf-token', key: 'token' } } });
    // $(VAR) references in args must name env vars of the container, or Kubernetes passes them literally.
    const envNames = new Set(c.env.map((e: any) => e.name));
    for (const a of c.args as string[]) for (const m of a.matchAll(/\$\(([A-Z_]+)\)/g)) expect(envNames.has(m[1]), `env ${m[1]}`).toBe(true);
    expect(c.resources.limits.cpu, 'cpu limit feeds --cpus').toBeDefined();
    expect(c.resources.limits.memory, 'memory limit feeds --memory-mb').toBeDefined();
  });

  it('deploy/k8s - scrape annotations point at a metrics port of the pod', () => {
    for (const [name, port] of [['npf-coordinator', 9464], ['npf-worker', 9465]] as const) {
      const dep = find(objects(), 'Deployment', name);
      const ann = dep.spec.template.metadata.annotations;
      expect(ann['prometheus.io/scrape']).toBe('true');
      expect(ann['prometheus.io/path']).toBe('/metrics');
      expect(Number(ann['prometheus.io/port'])).toBe(port);
      expect(dep.spec.template.spec.containers[0].ports.map((p: any) => p.containerPort)).toContain(port);
    }
  });

  it('deploy/k8s - NATS runs JetStream on a persistent volume behind Service nats:4222', () => {
    const sts = find(objects(), 'StatefulSet', 'nats');
    const c = container(sts, 'nats');
    expect(c.image).toMatch(/^nats:/);
    expect(c.args).toContain('-js');
    const storeDir: string = flagValue(c.args, '-sd')!;
    const claim = sts.spec.volumeClaimTemplates[0].metadata.name;
    const mount = c.volumeMounts.find((m: any) => m.name === claim);
    expect(storeDir.startsWith(mount.mountPath)).toBe(true);
    const svc = find(objects(), 'Service', 'nats');
    expect(svc.spec.ports.map((p: any) => p.port)).toContain(4222);
    expect(sts.spec.serviceName).toBe('nats');
  });

  it('deploy/k8s - dashboard and rules ConfigMaps carry the committed files; no CRD objects in the overlay', () => {
    const dash = find(objects(), 'ConfigMap', 'npf-grafana-dashboard');
    expect(dash.metadata.labels.grafana_dashboard).toBe('1');
    expect(dash.data['npf-sweep.json']).toBe(readFileSync(join(ROOT, 'deploy/grafana/npf-sweep.json'), 'utf8'));
    expect(dash.data['npf-sweep.json']).toBe(renderDashboardJson(buildNpfSweepDashboard()));
    const rules = find(objects(), 'ConfigMap', 'npf-prometheus-rules');
    expect(rules.data['npf-rules.yml']).toBe(readFileSync(join(ROOT, RULES_FILE), 'utf8'));
    expect(objects().filter((x) => x.apiVersion.startsWith('monitoring.coreos.com'))).toEqual([]);
  });

  it.each(['npf-coordinator', 'npf-worker'])('deploy/k8s - every flag passed to %s exists in the CLI command that receives it', (name) => {
    const args: string[] = container(find(objects(), 'Deployment', name), name.replace('npf-', '')).args;
    expect(unknownCliFlags(args)).toEqual([]);
    expect(unknownCliFlags([args[0], '--no-such-flag', 'x'])).toEqual([`${args[0]} --no-such-flag`]);
  });
});

describe('deploy/k8s - overlay differences', () => {
  it('deploy/k8s - the gpu overlay requests one nvidia.com/gpu per pod, on GPU nodes, with --gpus 1 --backend tensorflow-gpu', () => {
    const dep = find(rendered.gpu, 'Deployment', 'npf-worker');
    const c = container(dep, 'worker');
    expect(String(c.resources.limits['nvidia.com/gpu'])).toBe('1');
    expect(flagValue(c.args, '--gpus')).toBe('1');
    expect(flagValue(c.args, '--backend')).toBe('tensorflow-gpu');
    expect(c.image).toMatch(/worker-gpu/);
    const spec = dep.spec.template.spec;
    expect(Object.keys(spec.nodeSelector ?? {}).length + (spec.affinity ? 1 : 0)).toBeGreaterThan(0);
    expect(spec.tolerations).toContainEqual(expect.objectContaining({ key: 'nvidia.com/gpu' }));
  });

  it('deploy/k8s - the cpu overlay runs wasm workers without GPUs', () => {
    const dep = find(rendered.cpu, 'Deployment', 'npf-worker');
    const c = container(dep, 'worker');
    expect(flagValue(c.args, '--backend')).toBe('wasm');
    expect(c.args).not.toContain('--gpus');
    expect(c.resources.limits['nvidia.com/gpu']).toBeUndefined();
    expect(c.image).toMatch(/worker-cpu/);
  });
});

describe('deploy/k8s - optional monitoring (Prometheus operator)', () => {
  it('deploy/k8s - ServiceMonitors have the required fields and select the npf Services by an existing port name', () => {
    const monitors = rendered.monitoring.filter((x) => x.kind === 'ServiceMonitor') as any[];
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(['npf-coordinator', 'npf-worker']);
    const services = rendered.gpu.filter((x) => x.kind === 'Service') as any[];
    for (const m of monitors) {
      // Required by the ServiceMonitor CRD: spec.selector and spec.endpoints (checked by hand:
      // the prometheus-operator models are not installed).
      expect(m.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(m.metadata.namespace).toBe('npf');
      expect(typeof m.spec.selector.matchLabels).toBe('object');
      expect(m.spec.endpoints.length).toBeGreaterThan(0);
      const selected = services.filter((s) => Object.entries(m.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
      // The Prometheus job label is the Service name: the rules and the dashboard expect these.
      expect(selected.map((s) => s.metadata.name)).toEqual([m.metadata.name]);
      for (const e of m.spec.endpoints) {
        expect(selected[0].spec.ports.map((p: any) => p.name)).toContain(e.port);
        expect(e.path).toBe('/metrics');
      }
    }
  });

  it('deploy/k8s - the PrometheusRule carries exactly the rules of npf-rules.yml and is the generator output', () => {
    const rule = find(rendered.monitoring, 'PrometheusRule', 'npf-sweep');
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule.metadata.namespace).toBe('npf');
    const rulesText = readFileSync(join(ROOT, RULES_FILE), 'utf8');
    expect(rule.spec.groups).toEqual(parseRuleGroups(rulesText));
    for (const g of rule.spec.groups) for (const r of g.rules) expect(typeof (r.record ?? r.alert)).toBe('string');
    expect(readFileSync(join(ROOT, PROMETHEUS_RULE_FILE), 'utf8')).toBe(renderPrometheusRuleYaml(rulesText));
    expect(parse(readFileSync(join(ROOT, PROMETHEUS_RULE_FILE), 'utf8')).kind).toBe('PrometheusRule');
  });
});
