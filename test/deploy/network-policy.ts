/**
 * A small evaluator of Kubernetes NetworkPolicy semantics (networking.k8s.io/v1), enough to ask
 * "may pod A open a TCP/UDP connection to port P of pod B?" of rendered manifests:
 * - a pod selected by no policy of a type is not isolated for that direction;
 * - a selected pod admits a connection when some rule of some selecting policy admits it
 *   (rules are unions; an empty `from`/`to` admits everyone, empty `ports` every port);
 * - a connection needs the source's egress AND the destination's ingress;
 * - peers: podSelector (the policy's namespace), namespaceSelector, or both (AND); named ports
 *   resolve against the destination pod's container ports. ipBlock peers never match pods.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered YAML */

export interface Pod {
  name: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  labels: Record<string, string>;
  /** Named container ports (for named ports in policies). */
  ports: { name?: string; containerPort: number; protocol?: string }[];
}

export interface Port {
  port: number;
  protocol?: 'TCP' | 'UDP';
}

export function selects(selector: any, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const val = labels[e.key];
    if (e.operator === 'In' && !(has && e.values.includes(val))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(val)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function peerMatches(peer: any, pod: Pod, policyNamespace: string): boolean {
  if (peer.ipBlock) return false;
  const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, pod.namespaceLabels) : pod.namespace === policyNamespace;
  const podOk = peer.podSelector ? selects(peer.podSelector, pod.labels) : true;
  return nsOk && podOk;
}

function portMatches(rulePorts: any[] | undefined, port: Port, dst: Pod): boolean {
  if (!rulePorts || rulePorts.length === 0) return true;
  const protocol = port.protocol ?? 'TCP';
  return rulePorts.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'number') return p.endPort ? port.port >= p.port && port.port <= p.endPort : p.port === port.port;
    return dst.ports.some((cp) => cp.name === p.port && cp.containerPort === port.port && (cp.protocol ?? 'TCP') === protocol);
  });
}

function policiesFor(policies: any[], pod: Pod, type: 'Ingress' | 'Egress'): any[] {
  return policies.filter((p) => {
    if ((p.metadata.namespace ?? '') !== pod.namespace) return false;
    if (!selects(p.spec.podSelector, pod.labels)) return false;
    const types: string[] = p.spec.policyTypes ?? (p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
    return types.includes(type);
  });
}

export function ingressAllowed(policies: any[], src: Pod, dst: Pod, port: Port): boolean {
  const selecting = policiesFor(policies, dst, 'Ingress');
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (p.spec.ingress ?? []).some((r: any) => (!r.from || r.from.length === 0 || r.from.some((peer: any) => peerMatches(peer, src, p.metadata.namespace))) && portMatches(r.ports, port, dst)),
  );
}

export function egressAllowed(policies: any[], src: Pod, dst: Pod, port: Port): boolean {
  const selecting = policiesFor(policies, src, 'Egress');
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (p.spec.egress ?? []).some((r: any) => (!r.to || r.to.length === 0 || r.to.some((peer: any) => peerMatches(peer, dst, p.metadata.namespace))) && portMatches(r.ports, port, dst)),
  );
}

/** May `src` connect to `port` of `dst`? Both the source's egress and the destination's ingress. */
export function flowAllowed(policies: any[], src: Pod, dst: Pod, port: Port): boolean {
  return egressAllowed(policies, src, dst, port) && ingressAllowed(policies, src, dst, port);
}

/** The pods a workload runs, as evaluator pods. */
export function podOf(workload: any, namespaceLabels: Record<string, string>): Pod {
  const t = workload.spec.template;
  return {
    name: `${workload.kind}/${workload.metadata.name}`,
    namespace: workload.metadata.namespace,
    namespaceLabels,
    labels: t.metadata.labels,
    ports: t.spec.containers.flatMap((c: any) => c.ports ?? []),
  };
}
