/**
 * Shapes of the custom resources the manifests use, for offline validation (kubernetes-models
 * covers only built-in kinds). Strict zod objects: a misspelt field is an error, as the API server
 * would prune or refuse it. Only the fields these manifests use are modelled, with the types and
 * enums of the CRDs (KEDA 2.x keda.sh/v1alpha1, cert-manager 1.x cert-manager.io/v1,
 * prometheus-operator monitoring.coreos.com/v1).
 */
import { z } from 'zod';
import type { K8sObject } from './tools.js';

const name = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a DNS-1123 name');
const metadata = z
  .object({ name, namespace: name.optional(), labels: z.record(z.string()).optional(), annotations: z.record(z.string()).optional() })
  .strict();
const labelSelector = z.object({ matchLabels: z.record(z.string()) }).strict();

const scaledObject = z
  .object({
    apiVersion: z.literal('keda.sh/v1alpha1'),
    kind: z.literal('ScaledObject'),
    metadata,
    spec: z
      .object({
        scaleTargetRef: z.object({ apiVersion: z.string().optional(), kind: z.string().optional(), name }).strict(),
        minReplicaCount: z.number().int().min(0),
        maxReplicaCount: z.number().int().min(1),
        pollingInterval: z.number().int().positive().optional(),
        cooldownPeriod: z.number().int().min(0).optional(),
        advanced: z
          .object({
            horizontalPodAutoscalerConfig: z
              .object({
                behavior: z
                  .object({
                    scaleDown: z
                      .object({
                        stabilizationWindowSeconds: z.number().int().min(0).max(3600),
                        policies: z.array(z.object({ type: z.enum(['Pods', 'Percent']), value: z.number().int().positive(), periodSeconds: z.number().int().positive().max(1800) }).strict()),
                      })
                      .strict(),
                  })
                  .strict(),
              })
              .strict(),
          })
          .strict()
          .optional(),
        triggers: z
          .array(
            z
              .object({
                type: z.literal('prometheus'),
                metricType: z.enum(['AverageValue', 'Value', 'Utilization']).optional(),
                // Trigger metadata values are strings in the CRD.
                metadata: z
                  .object({
                    serverAddress: z.string().url(),
                    query: z.string().min(1),
                    threshold: z.string().regex(/^\d+(\.\d+)?$/),
                    activationThreshold: z.string().regex(/^\d+(\.\d+)?$/).optional(),
                    ignoreNullValues: z.enum(['true', 'false']).optional(),
                  })
                  .strict(),
              })
              .strict(),
          )
          .min(1),
      })
      .strict()
      .refine((s) => s.minReplicaCount <= s.maxReplicaCount, 'minReplicaCount > maxReplicaCount'),
  })
  .strict();

const issuerRef = z.object({ group: z.literal('cert-manager.io').optional(), kind: z.enum(['Issuer', 'ClusterIssuer']), name }).strict();
const duration = z.string().regex(/^(\d+h)?(\d+m)?(\d+s)?$/).refine((d) => d.length > 0, 'empty duration');

const issuer = z
  .object({
    apiVersion: z.literal('cert-manager.io/v1'),
    kind: z.literal('Issuer'),
    metadata,
    spec: z.union([z.object({ selfSigned: z.object({}).strict() }).strict(), z.object({ ca: z.object({ secretName: name }).strict() }).strict()]),
  })
  .strict();

const certificate = z
  .object({
    apiVersion: z.literal('cert-manager.io/v1'),
    kind: z.literal('Certificate'),
    metadata,
    spec: z
      .object({
        secretName: name,
        isCA: z.boolean().optional(),
        commonName: z.string().max(64).optional(),
        dnsNames: z.array(z.string().min(1)).optional(),
        duration: duration.optional(),
        renewBefore: duration.optional(),
        usages: z.array(z.enum(['server auth', 'client auth', 'digital signature', 'key encipherment', 'cert sign'])).optional(),
        privateKey: z.object({ algorithm: z.enum(['RSA', 'ECDSA', 'Ed25519']), size: z.number().int().positive() }).strict().optional(),
        issuerRef,
      })
      .strict()
      .refine((s) => s.isCA || (s.dnsNames?.length ?? 0) > 0, 'a leaf certificate needs dnsNames'),
  })
  .strict();

const serviceMonitor = z
  .object({
    apiVersion: z.literal('monitoring.coreos.com/v1'),
    kind: z.literal('ServiceMonitor'),
    metadata,
    spec: z
      .object({
        selector: labelSelector,
        endpoints: z.array(z.object({ port: z.string().min(1), path: z.string().startsWith('/'), interval: z.string().regex(/^\d+[smh]$/) }).strict()).min(1),
      })
      .strict(),
  })
  .strict();

const prometheusRule = z
  .object({
    apiVersion: z.literal('monitoring.coreos.com/v1'),
    kind: z.literal('PrometheusRule'),
    metadata,
    spec: z
      .object({
        groups: z.array(
          z
            .object({
              name: z.string().min(1),
              rules: z.array(
                z
                  .object({
                    record: z.string().optional(),
                    alert: z.string().optional(),
                    expr: z.string().min(1),
                    for: z.string().regex(/^\d+[smh]$/).optional(),
                    labels: z.record(z.string()).optional(),
                    annotations: z.record(z.string()).optional(),
                  })
                  .strict()
                  .refine((r) => (r.record === undefined) !== (r.alert === undefined), 'exactly one of record and alert'),
              ),
            })
            .strict(),
        ),
      })
      .strict(),
  })
  .strict();

const CRDS: Record<string, z.ZodTypeAny> = {
  'keda.sh/v1alpha1/ScaledObject': scaledObject,
  'cert-manager.io/v1/Issuer': issuer,
  'cert-manager.io/v1/Certificate': certificate,
  'monitoring.coreos.com/v1/ServiceMonitor': serviceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': prometheusRule,
};

/** Whether validateCrdObject knows this apiVersion/kind. */
export function hasCrdSchema(obj: K8sObject): boolean {
  return `${obj.apiVersion}/${obj.kind}` in CRDS;
}

/** Schema problems of one custom resource (empty when valid). */
export function validateCrdObject(obj: K8sObject): string[] {
  const schema = CRDS[`${obj.apiVersion}/${obj.kind}`];
  const where = `${obj.kind}/${obj.metadata?.name ?? '?'}`;
  if (!schema) return [`${obj.apiVersion}/${obj.kind}: no schema for this custom resource`];
  const r = schema.safeParse(obj);
  return r.success ? [] : r.error.issues.map((i) => `${where}: ${i.path.join('.') || '(object)'}: ${i.message}`);
}
