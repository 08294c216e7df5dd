/**
 * Platform invariants of every rendered variant (overlays, components, submit Job):
 * - every pod: its own ServiceAccount with automountServiceAccountToken false (pod and account),
 *   seccomp RuntimeDefault, non-root, no privilege escalation, read-only root, requests for cpu,
 *   memory and ephemeral-storage, size-limited emptyDirs within the ephemeral-storage limits,
 *   secrets as files (no token in env or args);
 * - NetworkPolicies: default deny, every Service port admitted from someone, the needed flows
 *   allowed and the others denied (network-policy.ts evaluates them);
 * - lifecycle: worker grace period = --termination-grace-s, and the drain path fits it with the
 *   margin; startup probes; memory headroom; the single writer; priorities, PDBs, spread;
 * - scaling: the KEDA ScaledObject targets the workers, removes their fixed replicas, queries
 *   contract metrics with a parsing query, and its per-worker threshold fits a worker;
 * - images: no floating tags.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_EVENT_STREAM_MAX_BYTES } from '../../events/event-stream.js';
import { contractSeriesNames } from '../../deploy/metrics-contract.js';
import { DRAIN_MARGIN_MS, drainPathMs, resolveDrainGraceMs } from '../../worker/drain-budget.js';
import { flowAllowed, podOf, type Pod } from './network-policy.js';
import { container, envValue, find, flagValue, quantity, renderJobs, renderVariant, VARIANTS, workloads } from './render.js';
import { checkPromqlParses, npfMetricNamesIn, ROOT, type K8sObject } from './tools.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- walking untyped rendered YAML */

const rendered = new Map<string, K8sObject[]>();
beforeAll(() => {
  for (const v of VARIANTS) rendered.set(v.name, renderVariant(v));
  rendered.set('jobs + tls-client', renderJobs(true));
});
const names = VARIANTS.map((v) => v.name);
/** A variant's objects plus the submit Job (applied after an overlay, into the same namespace). */
const withJob = (name: string): K8sObject[] => [...rendered.get(name)!, ...rendered.get('jobs + tls-client')!];

const NS = 'npf';
const NS_LABELS = { 'kubernetes.io/metadata.name': NS };
const podSpecOf = (w: any): any => w.spec.template.spec;
const allContainers = (w: any): any[] => [...(podSpecOf(w).initContainers ?? []), ...podSpecOf(w).containers];

describe.each(names)('deploy/k8s invariants - %s: pods', (name) => {
  const objects = () => withJob(name);

  it('deploy/k8s - every pod runs as its own ServiceAccount, which exists, and no pod mounts an API token', () => {
    const accounts = new Map(objects().filter((o) => o.kind === 'ServiceAccount').map((o) => [o.metadata.name, o as any]));
    const used = new Set<string>();
    for (const w of workloads(objects())) {
      const spec = podSpecOf(w);
      const where = `${w.kind}/${w.metadata.name}`;
      expect(spec.serviceAccountName, where).toBeDefined();
      expect(accounts.has(spec.serviceAccountName), `${where}: ServiceAccount ${spec.serviceAccountName}`).toBe(true);
      expect(spec.automountServiceAccountToken, where).toBe(false);
      expect(accounts.get(spec.serviceAccountName).automountServiceAccountToken, spec.serviceAccountName).toBe(false);
      expect(used.has(spec.serviceAccountName), `${where} shares ${spec.serviceAccountName}`).toBe(false);
      used.add(spec.serviceAccountName);
    }
    expect(used.size).toBeGreaterThanOrEqual(4);
  });

  it('deploy/k8s - every pod: seccomp RuntimeDefault, non-root, no privilege escalation, read-only root, all capabilities dropped', () => {
    for (const w of workloads(objects())) {
      const spec = podSpecOf(w);
      for (const c of allContainers(w)) {
        const where = `${w.kind}/${w.metadata.name}/${c.name}`;
        const seccomp = c.securityContext?.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type;
        expect(seccomp, where).toBe('RuntimeDefault');
        expect(c.securityContext?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot, where).toBe(true);
        expect(Number(c.securityContext?.runAsUser ?? spec.securityContext?.runAsUser), where).toBeGreaterThan(0);
        expect(c.securityContext.allowPrivilegeEscalation, where).toBe(false);
        expect(c.securityContext.readOnlyRootFilesystem, where).toBe(true);
        expect(c.securityContext.capabilities.drop, where).toEqual(['ALL']);
      }
    }
  });

  it('deploy/k8s - every container requests cpu, memory and ephemeral-storage and limits memory and ephemeral-storage', () => {
    for (const w of workloads(objects())) {
      for (const c of allContainers(w)) {
        const where = `${w.kind}/${w.metadata.name}/${c.name}`;
        for (const r of ['cpu', 'memory', 'ephemeral-storage']) expect(c.resources?.requests?.[r], `${where} requests ${r}`).toBeDefined();
        for (const r of ['memory', 'ephemeral-storage']) {
          expect(c.resources?.limits?.[r], `${where} limits ${r}`).toBeDefined();
          expect(quantity(c.resources.limits[r]), `${where} ${r}`).toBeGreaterThanOrEqual(quantity(c.resources.requests[r]));
        }
      }
    }
  });

  it('deploy/k8s - every emptyDir has a sizeLimit, and together they fit the pod ephemeral-storage limits', () => {
    for (const w of workloads(objects())) {
      const where = `${w.kind}/${w.metadata.name}`;
      const dirs = (podSpecOf(w).volumes ?? []).filter((v: any) => v.emptyDir);
      for (const d of dirs) expect(d.emptyDir.sizeLimit, `${where} emptyDir ${d.name}`).toBeDefined();
      const total = dirs.reduce((s: number, d: any) => s + quantity(d.emptyDir.sizeLimit), 0);
      const limits = allContainers(w).reduce((s: number, c: any) => s + quantity(c.resources.limits['ephemeral-storage']), 0);
      expect(total, `${where}: emptyDirs ${total} B within ephemeral-storage limits ${limits} B`).toBeLessThan(limits);
    }
  });

  it('deploy/k8s - secrets are files: no NPF_TOKEN in env, no token on a command line; workers hold only npf-worker-token, the administration token npf-token only the coordinator and the submit Job', () => {
    /** The Secret a flag's file is mounted from. */
    const secretOf = (w: any, c: any, file: string, where: string): string => {
      const mount = c.volumeMounts.find((m: any) => file.startsWith(`${m.mountPath}/`));
      expect(mount, `${where}: a volume mounted for ${file}`).toBeDefined();
      const volume = podSpecOf(w).volumes.find((v: any) => v.name === mount.name);
      expect(volume.secret.items.map((i: any) => i.path), where).toContain(file.slice(mount.mountPath.length + 1));
      return volume.secret.secretName;
    };
    const seen = new Set<string>();
    for (const w of workloads(objects())) {
      for (const c of allContainers(w)) {
        const where = `${w.kind}/${w.metadata.name}/${c.name}`;
        expect((c.env ?? []).map((e: any) => e.name), where).not.toContain('NPF_TOKEN');
        expect(c.args ?? [], where).not.toContain('--token');
        const tokenFile = flagValue(c.args ?? [], '--token-file');
        if (c.name === 'nats' || c.name === 'exporter') continue;
        expect(tokenFile, where).toBeDefined();
        const mounted = podSpecOf(w).volumes.filter((v: any) => v.secret).map((v: any) => v.secret.secretName);
        seen.add(c.name);
        if (c.name === 'worker') {
          expect(secretOf(w, c, tokenFile!, where), where).toBe('npf-worker-token');
          expect(mounted, `${where}: the administration token is never mounted in a worker pod`).not.toContain('npf-token');
        } else {
          expect(secretOf(w, c, tokenFile!, where), where).toBe('npf-token');
        }
        if (c.name === 'coordinator') {
          const workerTokenFile = flagValue(c.args, '--worker-token-file');
          expect(workerTokenFile, `${where}: --worker-token-file`).toBeDefined();
          expect(secretOf(w, c, workerTokenFile!, where), where).toBe('npf-worker-token');
        }
      }
    }
    expect([...seen].sort()).toEqual(expect.arrayContaining(['coordinator', 'submit', 'worker']));
  });

  it('deploy/k8s - long-running containers have startup probes; the liveness probe waits for them', () => {
    for (const [kind, wname, cname] of [['StatefulSet', 'npf-coordinator', 'coordinator'], ['Deployment', 'npf-worker', 'worker'], ['StatefulSet', 'npf-nats', 'nats']] as const) {
      const c = container(find(objects(), kind, wname), cname);
      expect(c.startupProbe, `${wname}`).toBeDefined();
      // Up to periodSeconds x failureThreshold for start-up (a migration, JetStream recovery).
      expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold, wname).toBeGreaterThanOrEqual(300);
      expect(c.livenessProbe.initialDelaySeconds ?? 0, `${wname}: the startup probe replaces the initial delay`).toBe(0);
    }
  });

  it('deploy/k8s - no floating image tags: a digest, or a full x.y.z version; npf images from the overlay registry', () => {
    const images = workloads(objects()).flatMap((w) => allContainers(w).map((c) => c.image as string));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      const digest = /@sha256:[0-9a-f]{64}$/.test(image);
      const tag = /^[^@]+:([^:/@]+)(@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
      expect(tag, `${image} has a tag`).toBeDefined();
      expect(tag, image).not.toBe('latest');
      expect(digest || /^v?\d+\.\d+\.\d+/.test(tag!), `${image}: a digest or a full version tag`).toBe(true);
    }
    expect(images.filter((i) => i.startsWith('nats:'))[0]).toMatch(/^nats:2\.\d+\.\d+-alpine@sha256:[0-9a-f]{64}$/);
    for (const i of images.filter((x) => x.includes('npf-sweep'))) expect(i).toMatch(/^registry\.example\.com\/npf-sweep\/(coordinator|worker-cpu|worker-gpu|worker-webgpu):\d+\.\d+\.\d+/);
  });

  it('deploy/k8s - the image check bites on floating tags', () => {
    const floating = ['nats', 'nats:2.10', 'nats:latest', 'node:24-bookworm-slim'];
    for (const image of floating) {
      const tag = /^[^@]+:([^:/@]+)(@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
      expect(tag === undefined || tag === 'latest' || !/^v?\d+\.\d+\.\d+/.test(tag), image).toBe(true);
    }
  });
});

describe.each(names)('deploy/k8s invariants - %s: network', (name) => {
  const objects = () => withJob(name);
  const policies = () => objects().filter((o) => o.kind === 'NetworkPolicy') as any[];
  const pod = (kind: string, wname: string): Pod => podOf(find(objects(), kind, wname), NS_LABELS);
  const prometheus: Pod = { name: 'prometheus', namespace: 'monitoring', namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' }, labels: { 'app.kubernetes.io/name': 'prometheus' }, ports: [] };
  const dns: Pod = { name: 'coredns', namespace: 'kube-system', namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' }, labels: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53 }] };
  const stranger: Pod = { name: 'other', namespace: NS, namespaceLabels: NS_LABELS, labels: { app: 'something-else' }, ports: [] };

  it('deploy/k8s - a default-deny policy isolates every pod of the namespace in both directions', () => {
    const deny = policies().find((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress);
    expect(deny?.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
  });

  it('deploy/k8s - every Service port is admitted by a policy selecting its pods', () => {
    for (const svc of objects().filter((o) => o.kind === 'Service') as any[]) {
      const backends = workloads(objects()).filter((w) => Object.entries(svc.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v));
      expect(backends.length, svc.metadata.name).toBeGreaterThan(0);
      for (const w of backends) {
        const dst = podOf(w, NS_LABELS);
        for (const sp of svc.spec.ports) {
          const port = typeof sp.targetPort === 'number' ? sp.targetPort : dst.ports.find((p) => p.name === sp.targetPort)?.containerPort;
          expect(port, `${svc.metadata.name}:${sp.name} targets a container port`).toBeDefined();
          const admitted = [pod('Deployment', 'npf-worker'), pod('Job', 'npf-submit'), pod('StatefulSet', 'npf-coordinator'), prometheus].some((src) => flowAllowed(policies(), src, dst, { port: port! }));
          expect(admitted, `Service ${svc.metadata.name} port ${sp.name} (${port}) is reachable by someone`).toBe(true);
        }
      }
    }
  });

  it('deploy/k8s - the needed flows are allowed', () => {
    const coordinator = pod('StatefulSet', 'npf-coordinator');
    const worker = pod('Deployment', 'npf-worker');
    const submit = pod('Job', 'npf-submit');
    const nats = pod('StatefulSet', 'npf-nats');
    const p = policies();
    expect(flowAllowed(p, worker, coordinator, { port: 7070 }), 'worker -> coordinator gRPC').toBe(true);
    expect(flowAllowed(p, submit, coordinator, { port: 7070 }), 'submit -> coordinator gRPC').toBe(true);
    expect(flowAllowed(p, coordinator, nats, { port: 4222 }), 'coordinator -> NATS').toBe(true);
    expect(flowAllowed(p, prometheus, coordinator, { port: 9464 }), 'monitoring -> coordinator metrics').toBe(true);
    expect(flowAllowed(p, prometheus, worker, { port: 9465 }), 'monitoring -> worker metrics').toBe(true);
    expect(flowAllowed(p, prometheus, nats, { port: 7777 }), 'monitoring -> NATS exporter').toBe(true);
    for (const src of [coordinator, worker, submit, nats]) {
      expect(flowAllowed(p, src, dns, { port: 53, protocol: 'UDP' }), `${src.name} -> DNS/UDP`).toBe(true);
      expect(flowAllowed(p, src, dns, { port: 53 }), `${src.name} -> DNS/TCP`).toBe(true);
    }
  });

  it('deploy/k8s - everything else is denied', () => {
    const coordinator = pod('StatefulSet', 'npf-coordinator');
    const worker = pod('Deployment', 'npf-worker');
    const submit = pod('Job', 'npf-submit');
    const nats = pod('StatefulSet', 'npf-nats');
    const p = policies();
    expect(flowAllowed(p, worker, nats, { port: 4222 }), 'worker -> NATS').toBe(false);
    expect(flowAllowed(p, submit, nats, { port: 4222 }), 'submit -> NATS').toBe(false);
    expect(flowAllowed(p, worker, worker, { port: 9465 }), 'worker -> worker').toBe(false);
    expect(flowAllowed(p, stranger, coordinator, { port: 7070 }), 'another app -> coordinator').toBe(false);
    expect(flowAllowed(p, prometheus, coordinator, { port: 7070 }), 'monitoring -> coordinator gRPC').toBe(false);
    expect(flowAllowed(p, prometheus, nats, { port: 8222 }), 'monitoring -> NATS monitor port (the exporter reads it locally)').toBe(false);
    expect(flowAllowed(p, coordinator, stranger, { port: 443 }), 'coordinator -> elsewhere').toBe(false);
    expect(flowAllowed(p, worker, prometheus, { port: 9090 }), 'worker -> elsewhere').toBe(false);
    expect(flowAllowed(p, nats, coordinator, { port: 7070 }), 'NATS -> coordinator').toBe(false);
  });

  it('deploy/k8s - the evaluator bites: without the policies everything flows, without the worker rule the worker is cut off', () => {
    const coordinator = pod('StatefulSet', 'npf-coordinator');
    const worker = pod('Deployment', 'npf-worker');
    expect(flowAllowed([], worker, pod('StatefulSet', 'npf-nats'), { port: 4222 })).toBe(true);
    const cut = policies().filter((x) => x.metadata.name !== 'npf-worker');
    expect(flowAllowed(cut, worker, coordinator, { port: 7070 })).toBe(false);
  });
});

describe.each(names)('deploy/k8s invariants - %s: lifecycle and scheduling', (name) => {
  const objects = () => rendered.get(name)!;

  it('deploy/k8s - workers: --termination-grace-s is the pod grace period, and the drain path fits it with the margin', () => {
    const dep = find(objects(), 'Deployment', 'npf-worker');
    const c = container(dep, 'worker');
    const graceS: number = dep.spec.template.spec.terminationGracePeriodSeconds;
    expect(flagValue(c.args, '--termination-grace-s')).toBe('$(NPF_TERMINATION_GRACE_S)');
    expect(flagValue(c.args, '--drain-grace-s'), 'derived from the grace period, not set apart').toBeUndefined();
    expect(Number(envValue(c, 'NPF_TERMINATION_GRACE_S'))).toBe(graceS);
    const drainMs = resolveDrainGraceMs({ terminationGraceMs: graceS * 1000 })!;
    expect(drainMs).toBeGreaterThanOrEqual(20_000);
    expect(drainPathMs(drainMs) + DRAIN_MARGIN_MS).toBeLessThanOrEqual(graceS * 1000);
  });

  it('deploy/k8s - coordinator: one writer (one-replica StatefulSet on a single-writer volume), higher priority than workers', () => {
    const sts = find(objects(), 'StatefulSet', 'npf-coordinator');
    expect(sts.kind).toBe('StatefulSet');
    expect(sts.spec.replicas).toBe(1);
    expect(objects().filter((o) => o.kind === 'Deployment' && (o as any).spec.template.metadata.labels['app.kubernetes.io/component'] === 'coordinator')).toEqual([]);
    const pvc = find(objects(), 'PersistentVolumeClaim', 'npf-coordinator-data');
    expect(pvc.spec.accessModes).toEqual(name.includes('read-write-once-pod') ? ['ReadWriteOncePod'] : ['ReadWriteOnce']);
    const classes = new Map(objects().filter((o) => o.kind === 'PriorityClass').map((o: any) => [o.metadata.name, o]));
    const prio = (w: any) => classes.get(podSpecOf(w).priorityClassName);
    const worker = find(objects(), 'Deployment', 'npf-worker');
    expect(prio(sts).value).toBeGreaterThan(prio(worker).value);
    expect(prio(worker).value).toBeLessThan(0);
    expect(prio(worker).preemptionPolicy).toBe('Never');
    expect(prio(find(objects(), 'StatefulSet', 'npf-nats')).value).toBeGreaterThan(prio(worker).value);
    // stop(): gRPC drain (2 s) + NATS flush (5 s) + close, well inside its grace period.
    expect(podSpecOf(sts).terminationGracePeriodSeconds).toBeGreaterThanOrEqual(15);
  });

  it('deploy/k8s - PodDisruptionBudgets select real pods: the coordinator is not evicted while healthy, workers one at a time', () => {
    const pdbs = objects().filter((o) => o.kind === 'PodDisruptionBudget') as any[];
    const selected = (pdb: any) => workloads(objects()).filter((w) => Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => w.spec.template.metadata.labels[k] === v));
    const byName = Object.fromEntries(pdbs.map((p) => [p.metadata.name, p]));
    expect(selected(byName['npf-coordinator']).map((w: any) => w.metadata.name)).toEqual(['npf-coordinator']);
    expect(byName['npf-coordinator'].spec.minAvailable).toBe(1);
    expect(byName['npf-coordinator'].spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    expect(selected(byName['npf-worker']).map((w: any) => w.metadata.name)).toEqual(['npf-worker']);
    expect(byName['npf-worker'].spec.maxUnavailable).toBe(1);
  });

  it('deploy/k8s - workers spread over nodes and zones without blocking scheduling', () => {
    const dep = find(objects(), 'Deployment', 'npf-worker');
    const tsc = podSpecOf(dep).topologySpreadConstraints;
    expect(tsc.map((t: any) => t.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const t of tsc) {
      expect(t.whenUnsatisfiable).toBe('ScheduleAnyway');
      for (const [k, v] of Object.entries(t.labelSelector.matchLabels)) expect(dep.spec.template.metadata.labels[k]).toBe(v);
    }
  });

  it('deploy/k8s - workers keep memory headroom: at least 512 MiB and 10% of the limit stay out of what they offer', () => {
    const c = container(find(objects(), 'Deployment', 'npf-worker'), 'worker');
    expect(flagValue(c.args, '--memory-headroom-mb')).toBe('$(NPF_MEMORY_HEADROOM_MB)');
    const limitMb = quantity(c.resources.limits.memory) / 1024 ** 2;
    const headroom = Number(envValue(c, 'NPF_MEMORY_HEADROOM_MB'));
    expect(headroom).toBeGreaterThanOrEqual(Math.max(512, 0.1 * limitMb));
    expect(headroom).toBeLessThan(limitMb / 2);
  });

  it('deploy/k8s - NATS: the stream cap fits the server storage limit, which fits the volume', () => {
    const conf: string = find(objects(), 'ConfigMap', 'npf-nats-config').data['nats.conf'];
    const m = /max_file_store:\s*(\d+)MB/.exec(conf);
    expect(m, 'max_file_store in MB').not.toBeNull();
    const maxFileStore = Number(m![1]) * 1024 ** 2; // nats-server reads MB as MiB (checked in nats-config.test.ts)
    const volume = quantity(find(objects(), 'StatefulSet', 'npf-nats').spec.volumeClaimTemplates[0].spec.resources.requests.storage);
    expect(DEFAULT_EVENT_STREAM_MAX_BYTES).toBeLessThan(maxFileStore);
    expect(maxFileStore).toBeLessThan(volume);
    const coord = container(find(objects(), 'StatefulSet', 'npf-coordinator'), 'coordinator');
    expect(flagValue(coord.args, '--nats-max-bytes'), 'the default stream cap applies').toBeUndefined();
  });
});

describe('deploy/k8s invariants - autoscaling (KEDA)', () => {
  for (const name of ['gpu', 'cpu + keda']) {
    it(`deploy/k8s - ${name}: the ScaledObject scales the worker Deployment, whose replicas field is gone`, () => {
      const objects = rendered.get(name)!;
      const so = find(objects, 'ScaledObject', 'npf-worker');
      const dep = find(objects, so.spec.scaleTargetRef.kind, so.spec.scaleTargetRef.name);
      expect(dep.kind).toBe('Deployment');
      expect(dep.spec.replicas, 'kubectl apply must not reset what the autoscaler chose').toBeUndefined();
      expect(so.spec.minReplicaCount).toBe(0);
      expect(so.spec.triggers[0].metadata.ignoreNullValues).toBe('false');
    });
  }

  it('deploy/k8s - the trigger query parses, names contract metrics of the coordinator job, and counts queued and running trials', () => {
    const so = find(rendered.get('gpu')!, 'ScaledObject', 'npf-worker');
    const query: string = so.spec.triggers[0].metadata.query;
    const r = checkPromqlParses([query]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const known = contractSeriesNames();
    expect(npfMetricNamesIn(query).filter((n) => !known.has(n))).toEqual([]);
    expect(query).toContain('job="npf-coordinator"');
    for (const s of ['pending', 'leased', 'running']) expect(query).toContain(s);
  });

  it('deploy/k8s - the per-worker threshold is what one GPU worker runs at once for the CIFAR sweeps (resources per trial)', () => {
    const objects = rendered.get('gpu')!;
    const threshold = Number(find(objects, 'ScaledObject', 'npf-worker').spec.triggers[0].metadata.threshold);
    const c = container(find(objects, 'Deployment', 'npf-worker'), 'worker');
    const spec = parse(readFileSync(join(ROOT, 'sweeps/gconv-cifar10-adam.yaml'), 'utf8'));
    const r = JSON.stringify(spec).match(/"resources":\{"cpu":([\d.]+),"gpu":([\d.]+),"memoryMb":(\d+)\}/);
    expect(r, 'resources of the GCONV sweep').not.toBeNull();
    const [cpu, gpu, memoryMb] = r!.slice(1).map(Number);
    const offered = {
      cpu: quantity(c.resources.limits.cpu),
      gpu: Number(envValue(c, 'NPF_GPUS')),
      memoryMb: quantity(c.resources.limits.memory) / 1024 ** 2 - Number(envValue(c, 'NPF_MEMORY_HEADROOM_MB')),
    };
    const fits = Math.min(Math.floor(offered.cpu / cpu), Math.floor(offered.gpu / gpu), Math.floor(offered.memoryMb / memoryMb));
    expect(fits).toBe(threshold);
  });
});

describe('deploy/k8s invariants - TLS (cert-manager)', () => {
  it('deploy/k8s - the coordinator serves the issued certificate; workers trust its CA only and dial a name on the certificate', () => {
    const objects = rendered.get('gpu + tls')!;
    const cert = find(objects, 'Certificate', 'npf-coordinator-tls');
    const issuer = find(objects, 'Issuer', cert.spec.issuerRef.name);
    const ca = objects.find((o: any) => o.kind === 'Certificate' && o.spec.secretName === issuer.spec.ca.secretName) as any;
    expect(ca.spec.isCA).toBe(true);
    const sts = find(objects, 'StatefulSet', 'npf-coordinator');
    const c = container(sts, 'coordinator');
    const certFile = flagValue(c.args, '--tls-cert')!;
    const keyFile = flagValue(c.args, '--tls-key')!;
    const mount = c.volumeMounts.find((m: any) => certFile.startsWith(`${m.mountPath}/`));
    const vol = podSpecOf(sts).volumes.find((v: any) => v.name === mount.name);
    expect(vol.secret.secretName).toBe(cert.spec.secretName);
    expect(vol.secret.items.map((i: any) => i.path).sort()).toEqual([certFile, keyFile].map((f) => f.slice(mount.mountPath.length + 1)).sort());
    for (const [kind, wname, cname] of [['Deployment', 'npf-worker', 'worker']] as const) {
      const w = find(objects, kind, wname);
      const wc = container(w, cname);
      const caFile = flagValue(wc.args, '--tls-ca')!;
      const m = wc.volumeMounts.find((x: any) => caFile.startsWith(`${x.mountPath}/`));
      const v = podSpecOf(w).volumes.find((x: any) => x.name === m.name);
      expect(v.secret.secretName).toBe(cert.spec.secretName);
      expect(v.secret.items, 'only the CA, never the key').toEqual([{ key: 'ca.crt', path: 'ca.crt' }]);
      const host = flagValue(wc.args, '--coordinator')!.split(':')[0];
      expect(cert.spec.dnsNames).toContain(host);
    }
    const job = find(rendered.get('jobs + tls-client')!, 'Job', 'npf-submit');
    expect(cert.spec.dnsNames).toContain(flagValue(container(job, 'submit').args, '--coordinator')!.split(':')[0]);
  });
});
