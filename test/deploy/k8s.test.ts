/**
 * The Kubernetes manifests render with the real `kubectl kustomize` (every overlay, every
 * component on an overlay, the submit Job, the monitoring objects), every object is valid against
 * the Kubernetes schemas (custom resources against crd-schemas.ts), and the wiring the runtime
 * contract needs is there: ports, probes, token files, NATS, dashboard and rules ConfigMaps.
 * Platform invariants (security, resources, network, lifecycle, scaling) are in
 * k8s-invariants.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildNpfSweepDashboard } from '../../deploy/grafana/dashboard.js';
import { renderDashboardJson } from '../../deploy/grafana/dashboard-file.js';
import { PROMETHEUS_RULE_FILE, RULES_FILE, parseRuleGroups, renderPrometheusRuleYaml } from '../../deploy/prometheus/prometheus-rule.js';
import { hasCrdSchema, validateCrdObject } from './crd-schemas.js';
import { hasModel, validateK8sObject } from './k8s-schema.js';
import { container, find, flagValue, renderJobs, renderVariant, VARIANTS, type Variant } from './render.js';
import { ROOT, kustomize, parseYamlStream, type K8sObject } from './tools.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- walking untyped rendered YAML */

const rendered = new Map<string, K8sObject[]>();
const get = (name: string): K8sObject[] => rendered.get(name)!;

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
  for (const v of VARIANTS) rendered.set(v.name, renderVariant(v));
  rendered.set('jobs', renderJobs(false));
  rendered.set('jobs + tls-client', renderJobs(true));
  rendered.set('monitoring', kustomize('deploy/k8s/monitoring'));
});

const BASE_OBJECTS = [
  'ConfigMap/npf-grafana-dashboard',
  'ConfigMap/npf-nats-config',
  'ConfigMap/npf-prometheus-rules',
  'Deployment/npf-worker',
  'NetworkPolicy/npf-allow-dns',
  'NetworkPolicy/npf-coordinator',
  'NetworkPolicy/npf-default-deny',
  'NetworkPolicy/npf-nats',
  'NetworkPolicy/npf-submit',
  'NetworkPolicy/npf-worker',
  'PersistentVolumeClaim/npf-coordinator-data',
  'PodDisruptionBudget/npf-coordinator',
  'PodDisruptionBudget/npf-worker',
  'PriorityClass/npf-sweep-coordinator',
  'PriorityClass/npf-sweep-worker',
  'Service/npf-coordinator',
  'Service/npf-nats',
  'Service/npf-worker',
  'ServiceAccount/npf-coordinator',
  'ServiceAccount/npf-nats',
  'ServiceAccount/npf-submit',
  'ServiceAccount/npf-worker',
  'StatefulSet/npf-coordinator',
  'StatefulSet/npf-nats',
];

const EXTRA_BY_COMPONENT: Record<string, string[]> = {
  keda: ['ScaledObject/npf-worker'],
  tls: ['Certificate/npf-ca', 'Certificate/npf-coordinator-tls', 'Issuer/npf-ca', 'Issuer/npf-selfsigned'],
  'read-write-once-pod': [],
};

function expectedObjects(v: Variant): string[] {
  const components = v.overlay !== 'cpu' ? ['keda', ...v.components] : v.components;
  return [...new Set([...BASE_OBJECTS, ...components.flatMap((c) => EXTRA_BY_COMPONENT[c])])].sort();
}

describe('deploy/k8s - schema validation', () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))('deploy/k8s - every object of %s is valid against the Kubernetes (or CRD) schemas', (name, v) => {
    const objects = get(name);
    expect(objects.map((x) => `${x.kind}/${x.metadata.name}`).sort()).toEqual(expectedObjects(v));
    for (const obj of objects) {
      const where = `${obj.kind}/${obj.metadata.name}`;
      if (hasCrdSchema(obj)) expect(validateCrdObject(obj), where).toEqual([]);
      else {
        expect(hasModel(obj), where).toBe(true);
        expect(validateK8sObject(obj), where).toEqual([]);
      }
      // Namespaced objects land in npf; PriorityClasses are cluster-scoped.
      expect(obj.metadata.namespace, where).toBe(obj.kind === 'PriorityClass' ? undefined : 'npf');
    }
  });

  it('deploy/k8s - the submit Job (with and without TLS) is valid and submits a sweep that exists to npf-coordinator:7070', () => {
    for (const variant of ['jobs', 'jobs + tls-client']) {
      const job = find(get(variant), 'Job', 'npf-submit');
      expect(validateK8sObject(job), variant).toEqual([]);
      const args: string[] = container(job, 'submit').args;
      expect(args[0]).toBe('submit');
      expect(existsSync(join(ROOT, args[1])), `${args[1]} exists`).toBe(true);
      expect(flagValue(args, '--coordinator')).toBe('npf-coordinator:7070');
      expect(unknownCliFlags(args)).toEqual([]);
      expect(flagValue(args, '--tls-ca') !== undefined, variant).toBe(variant.includes('tls'));
    }
  });

  it('deploy/k8s - the validators bite: wrong types, missing fields, misspelt fields, bad custom resources', () => {
    const worker = find(get('gpu'), 'Deployment', 'npf-worker');
    const wrongType = structuredClone(worker);
    wrongType.spec.replicas = 'one';
    expect(validateK8sObject(wrongType).join('\n')).toMatch(/replicas must be integer/);

    const noName = structuredClone(worker);
    delete noName.spec.template.spec.containers[0].name;
    expect(validateK8sObject(noName).join('\n')).toMatch(/required property 'name'|required property name/);

    const misspelt = structuredClone(worker);
    misspelt.spec.template.spec.terminationGracePeriodSecond = 30;
    expect(validateK8sObject(misspelt)).toEqual(['Deployment/npf-worker: unknown field spec.template.spec.terminationGracePeriodSecond']);

    const badProbe = structuredClone(find(get('cpu'), 'StatefulSet', 'npf-coordinator'));
    delete badProbe.spec.template.spec.containers[0].readinessProbe.httpGet.port;
    expect(validateK8sObject(badProbe).join('\n')).toMatch(/httpGet must have required property 'port'|httpGet must have required property port/);

    const so = structuredClone(find(get('gpu'), 'ScaledObject', 'npf-worker'));
    so.spec.triggers[0].metadata.threshold = 4;
    so.spec.minReplicas = 0;
    expect(validateCrdObject(so).join('\n')).toMatch(/threshold: Expected string/);
    expect(validateCrdObject(so).join('\n')).toMatch(/Unrecognized key\(s\) in object: 'minReplicas'/);

    const cert = structuredClone(find(get('gpu + tls'), 'Certificate', 'npf-coordinator-tls'));
    delete cert.spec.dnsNames;
    expect(validateCrdObject(cert).join('\n')).toMatch(/a leaf certificate needs dnsNames/);
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

describe.each(VARIANTS.map((v) => v.name))('deploy/k8s - %s wiring', (name) => {
  const objects = () => get(name);

  it('deploy/k8s - coordinator: a one-replica StatefulSet, data on the PVC, NATS with a token file, npf token as a file', () => {
    const sts = find(objects(), 'StatefulSet', 'npf-coordinator');
    expect(sts.spec.replicas).toBe(1);
    const c = container(sts, 'coordinator');
    expect(c.args[0]).toBe('coordinator');
    expect(flagValue(c.args, '--nats')).toBe('nats://npf-nats:4222');
    const dataDir = flagValue(c.args, '--data-dir');
    const mount = c.volumeMounts.find((m: any) => m.mountPath === dataDir);
    expect(mount, `a volume mounted at --data-dir ${dataDir}`).toBeDefined();
    const volume = sts.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
    find(objects(), 'PersistentVolumeClaim', volume.persistentVolumeClaim.claimName);
    expect(flagValue(c.args, '--token-file')).toBe('/var/run/secrets/npf/token');
    expect(flagValue(c.args, '--worker-token-file')).toBe('/var/run/secrets/npf-worker/token');
    expect(flagValue(c.args, '--nats-token-file')).toBe('/var/run/secrets/npf-nats/token');
  });

  it('deploy/k8s - coordinator: probes on /healthz and /readyz at 9464, Service exposes gRPC 7070 and metrics 9464', () => {
    const sts = find(objects(), 'StatefulSet', 'npf-coordinator');
    const c = container(sts, 'coordinator');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.startupProbe.httpGet.path).toBe('/healthz');
    for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe]) expect(probePort(c, p)).toBe(9464);
    const svc = find(objects(), 'Service', 'npf-coordinator');
    const byPort = Object.fromEntries(svc.spec.ports.map((p: any) => [p.port, p.targetPort]));
    expect(byPort).toEqual({ 7070: 'grpc', 9464: 'http-metrics' });
    const named = Object.fromEntries(c.ports.map((p: any) => [p.name, p.containerPort]));
    expect(named).toEqual({ grpc: 7070, 'http-metrics': 9464 });
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(sts.spec.template.metadata.labels[k]).toBe(v);
    expect(sts.spec.serviceName).toBe('npf-coordinator');
  });

  it('deploy/k8s - workers: /healthz on 9465, token file, coordinator address, $(VAR)s defined', () => {
    const dep = find(objects(), 'Deployment', 'npf-worker');
    const c = container(dep, 'worker');
    expect(c.args[0]).toBe('worker');
    expect(flagValue(c.args, '--coordinator')).toBe('npf-coordinator:7070');
    expect(flagValue(c.args, '--token-file')).toBe('/var/run/secrets/npf-worker/token');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(probePort(c, c.livenessProbe)).toBe(9465);
    // $(VAR) references in args must name env vars of the container, or Kubernetes passes them literally.
    const envNames = new Set(c.env.map((e: any) => e.name));
    for (const a of c.args as string[]) for (const m of a.matchAll(/\$\(([A-Z_]+)\)/g)) expect(envNames.has(m[1]), `env ${m[1]}`).toBe(true);
    expect(c.resources.limits.cpu, 'cpu limit feeds --cpus').toBeDefined();
    expect(c.resources.limits.memory, 'memory limit feeds --memory-mb').toBeDefined();
  });

  it('deploy/k8s - scrape annotations point at a metrics port of the pod', () => {
    for (const [kind, wname, port] of [['StatefulSet', 'npf-coordinator', 9464], ['Deployment', 'npf-worker', 9465], ['StatefulSet', 'npf-nats', 7777]] as const) {
      const w = find(objects(), kind, wname);
      const ann = w.spec.template.metadata.annotations;
      expect(ann['prometheus.io/scrape']).toBe('true');
      expect(ann['prometheus.io/path']).toBe('/metrics');
      expect(Number(ann['prometheus.io/port'])).toBe(port);
      expect(w.spec.template.spec.containers.flatMap((x: any) => x.ports.map((p: any) => p.containerPort))).toContain(port);
    }
  });

  it('deploy/k8s - NATS: JetStream from the config file on the volume, token from the Secret the coordinator reads, exporter on 7777', () => {
    const sts = find(objects(), 'StatefulSet', 'npf-nats');
    const c = container(sts, 'nats');
    expect(c.args).toEqual(['-c', '/etc/nats/nats.conf']);
    const cfgVolume = sts.spec.template.spec.volumes.find((v: any) => v.name === c.volumeMounts.find((m: any) => m.mountPath === '/etc/nats').name);
    const conf: string = find(objects(), 'ConfigMap', cfgVolume.configMap.name).data['nats.conf'];
    const storeDir = /store_dir:\s*(\S+)/.exec(conf)![1];
    const claim = sts.spec.volumeClaimTemplates[0].metadata.name;
    expect(storeDir.startsWith(c.volumeMounts.find((m: any) => m.name === claim).mountPath)).toBe(true);
    expect(conf).toMatch(/authorization\s*\{\s*token:\s*\$NATS_TOKEN\s*\}/);
    const natsSecret = c.env.find((e: any) => e.name === 'NATS_TOKEN').valueFrom.secretKeyRef.name;
    const coord = find(objects(), 'StatefulSet', 'npf-coordinator');
    const tokenVolume = coord.spec.template.spec.volumes.find((v: any) => v.name === 'nats-token');
    expect(tokenVolume.secret.secretName).toBe(natsSecret);
    const exporter = container(sts, 'exporter');
    expect(exporter.args).toContain('http://localhost:8222');
    expect(exporter.args).toContain('-jsz=streams');
    const svc = find(objects(), 'Service', 'npf-nats');
    expect(Object.fromEntries(svc.spec.ports.map((p: any) => [p.port, p.targetPort]))).toEqual({ 4222: 'client', 7777: 'metrics' });
    expect(sts.spec.serviceName).toBe('npf-nats');
  });

  it('deploy/k8s - dashboard and rules ConfigMaps carry the committed files; no Prometheus-operator objects in the overlay', () => {
    const dash = find(objects(), 'ConfigMap', 'npf-grafana-dashboard');
    expect(dash.metadata.labels.grafana_dashboard).toBe('1');
    expect(dash.data['npf-sweep.json']).toBe(readFileSync(join(ROOT, 'deploy/grafana/npf-sweep.json'), 'utf8'));
    expect(dash.data['npf-sweep.json']).toBe(renderDashboardJson(buildNpfSweepDashboard()));
    const rules = find(objects(), 'ConfigMap', 'npf-prometheus-rules');
    expect(rules.data['npf-rules.yml']).toBe(readFileSync(join(ROOT, RULES_FILE), 'utf8'));
    expect(objects().filter((x) => x.apiVersion.startsWith('monitoring.coreos.com'))).toEqual([]);
  });

  it.each([['StatefulSet', 'npf-coordinator', 'coordinator'], ['Deployment', 'npf-worker', 'worker']])('deploy/k8s - every flag passed to %s/%s exists in the CLI command that receives it', (kind, wname, cname) => {
    const args: string[] = container(find(objects(), kind, wname), cname).args;
    expect(unknownCliFlags(args)).toEqual([]);
    expect(unknownCliFlags([args[0], '--no-such-flag', 'x'])).toEqual([`${args[0]} --no-such-flag`]);
  });
});

describe('deploy/k8s - overlay differences', () => {
  it('deploy/k8s - gpu-webgpu: one nvidia.com/gpu per pod, NPF_GPUS equal to it, webgpu, the graphics capability and XDG_RUNTIME_DIR the Vulkan loader needs', () => {
    const dep = find(get('gpu-webgpu'), 'Deployment', 'npf-worker');
    const c = container(dep, 'worker');
    const env = (n: string) => c.env.find((e: any) => e.name === n)?.value;
    expect(String(c.resources.limits['nvidia.com/gpu'])).toBe('1');
    expect(env('NPF_GPUS')).toBe(String(c.resources.limits['nvidia.com/gpu']));
    expect(flagValue(c.args, '--backend')).toBe('$(NPF_BACKEND)');
    expect(env('NPF_BACKEND')).toBe('webgpu');
    // Without graphics the NVIDIA container runtime does not mount its Vulkan driver.
    expect(String(env('NVIDIA_DRIVER_CAPABILITIES')).split(',')).toContain('graphics');
    const xdg = env('XDG_RUNTIME_DIR');
    const mounts = (c.volumeMounts ?? []).map((m: any) => m.mountPath);
    expect(mounts).toContain(xdg);
    expect(c.image).toMatch(/worker-webgpu/);
    expect(dep.spec.template.spec.tolerations).toContainEqual(expect.objectContaining({ key: 'nvidia.com/gpu' }));
  });

  it('deploy/k8s - gpu: one nvidia.com/gpu per pod, NPF_GPUS equal to it, tensorflow-gpu, allow-growth, the GPU toleration', () => {
    const dep = find(get('gpu'), 'Deployment', 'npf-worker');
    const c = container(dep, 'worker');
    const env = (n: string) => c.env.find((e: any) => e.name === n)?.value;
    expect(String(c.resources.limits['nvidia.com/gpu'])).toBe('1');
    expect(env('NPF_GPUS')).toBe(String(c.resources.limits['nvidia.com/gpu']));
    expect(flagValue(c.args, '--gpus')).toBe('$(NPF_GPUS)');
    expect(env('NPF_BACKEND')).toBe('tensorflow-gpu');
    expect(env('TF_FORCE_GPU_ALLOW_GROWTH')).toBe('true');
    expect(c.image).toMatch(/worker-gpu/);
    // The GPU request alone selects GPU nodes: no GPU Feature Discovery label is required.
    expect(dep.spec.template.spec.nodeSelector).toBeUndefined();
    expect(dep.spec.template.spec.tolerations).toContainEqual(expect.objectContaining({ key: 'nvidia.com/gpu' }));
  });

  it('deploy/k8s - cpu: wasm-blas workers (OpenBLAS products) without GPUs, fixed replicas', () => {
    const dep = find(get('cpu'), 'Deployment', 'npf-worker');
    const c = container(dep, 'worker');
    expect(c.env.find((e: any) => e.name === 'NPF_BACKEND').value).toBe('wasm-blas');
    expect(c.env.find((e: any) => e.name === 'NPF_GPUS').value).toBe('0');
    expect(c.resources.limits['nvidia.com/gpu']).toBeUndefined();
    expect(c.image).toMatch(/worker-cpu/);
    expect(dep.spec.replicas).toBe(4);
  });

  it('deploy/k8s - overlays patch values, never the args list; kustomizations use resources/patches/components only', () => {
    const kustomizations = ['base', 'overlays/cpu', 'overlays/gpu', 'overlays/gpu-webgpu', 'jobs', 'monitoring', 'components/keda', 'components/tls', 'components/tls-client', 'components/read-write-once-pod'].map((d) => `deploy/k8s/${d}/kustomization.yaml`);
    for (const f of [...kustomizations, 'deploy/grafana/kustomization.yaml', 'deploy/prometheus/kustomization.yaml']) {
      const k = parse(readFileSync(join(ROOT, f), 'utf8'));
      for (const deprecated of ['bases', 'patchesStrategicMerge', 'patchesJson6902', 'vars', 'commonLabels']) expect(k[deprecated], `${f}: ${deprecated}`).toBeUndefined();
    }
    for (const o of ['cpu', 'gpu', 'gpu-webgpu']) {
      const k = parse(readFileSync(join(ROOT, `deploy/k8s/overlays/${o}/kustomization.yaml`), 'utf8'));
      for (const p of k.patches ?? []) {
        const text = p.patch ?? readFileSync(join(ROOT, `deploy/k8s/overlays/${o}`, p.path), 'utf8');
        expect(text, `${o}: ${p.path ?? 'inline patch'}`).not.toMatch(/^\s*args:/m);
      }
    }
  });
});

describe('deploy/k8s - optional monitoring (Prometheus operator)', () => {
  it('deploy/k8s - ServiceMonitors are valid and select the npf Services by an existing port name', () => {
    const monitors = get('monitoring').filter((x) => x.kind === 'ServiceMonitor') as any[];
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(['npf-coordinator', 'npf-nats', 'npf-worker']);
    const services = get('gpu').filter((x) => x.kind === 'Service') as any[];
    for (const m of monitors) {
      expect(validateCrdObject(m)).toEqual([]);
      expect(m.metadata.namespace).toBe('npf');
      const selected = services.filter((s) => Object.entries(m.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
      // The Prometheus job label is the Service name: the rules and the dashboard expect these.
      expect(selected.map((s) => s.metadata.name)).toEqual([m.metadata.name]);
      for (const e of m.spec.endpoints) expect(selected[0].spec.ports.map((p: any) => p.name)).toContain(e.port);
    }
  });

  it('deploy/k8s - the PrometheusRule carries exactly the rules of npf-rules.yml and is the generator output', () => {
    const rule = find(get('monitoring'), 'PrometheusRule', 'npf-sweep');
    expect(validateCrdObject(rule)).toEqual([]);
    expect(rule.metadata.namespace).toBe('npf');
    const rulesText = readFileSync(join(ROOT, RULES_FILE), 'utf8');
    expect(rule.spec.groups).toEqual(parseRuleGroups(rulesText));
    expect(readFileSync(join(ROOT, PROMETHEUS_RULE_FILE), 'utf8')).toBe(renderPrometheusRuleYaml(rulesText));
  });
});
