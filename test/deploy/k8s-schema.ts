/**
 * Validate rendered Kubernetes objects against the Kubernetes OpenAPI schemas:
 * - kubernetes-models (JSON-schema validation: types, required fields, enums),
 * - plus an unknown-field walk over @kubernetes/client-node's model type maps, because the
 *   JSON schemas allow extra properties and a misspelt field (`terminationGracePeriodSecond`)
 *   would otherwise pass here and be dropped or refused by the API server.
 * CRDs (KEDA ScaledObject, cert-manager Issuer/Certificate, ServiceMonitor, PrometheusRule) are
 * not covered by kubernetes-models: crd-schemas.ts checks their shape with strict zod schemas.
 */
import * as k8s from '@kubernetes/client-node';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { K8sObject } from './tools.js';

interface Validatable {
  validate(): void;
}

const MODELS: Record<string, { model: new (data: never) => Validatable; typeName: string }> = {
  'apps/v1/Deployment': { model: Deployment as never, typeName: 'V1Deployment' },
  'apps/v1/StatefulSet': { model: StatefulSet as never, typeName: 'V1StatefulSet' },
  'batch/v1/Job': { model: Job as never, typeName: 'V1Job' },
  'v1/ConfigMap': { model: ConfigMap as never, typeName: 'V1ConfigMap' },
  'v1/PersistentVolumeClaim': { model: PersistentVolumeClaim as never, typeName: 'V1PersistentVolumeClaim' },
  'v1/Secret': { model: Secret as never, typeName: 'V1Secret' },
  'v1/Service': { model: Service as never, typeName: 'V1Service' },
  'v1/ServiceAccount': { model: ServiceAccount as never, typeName: 'V1ServiceAccount' },
  'networking.k8s.io/v1/NetworkPolicy': { model: NetworkPolicy as never, typeName: 'V1NetworkPolicy' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget as never, typeName: 'V1PodDisruptionBudget' },
  'scheduling.k8s.io/v1/PriorityClass': { model: PriorityClass as never, typeName: 'V1PriorityClass' },
};

/** Whether validateK8sObject knows this apiVersion/kind. */
export function hasModel(obj: K8sObject): boolean {
  return `${obj.apiVersion}/${obj.kind}` in MODELS;
}

/** All schema problems of one object (empty when valid). */
export function validateK8sObject(obj: K8sObject): string[] {
  const entry = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!entry) return [`${obj.apiVersion}/${obj.kind}: no schema model for this kind`];
  const where = `${obj.kind}/${obj.metadata?.name ?? '?'}`;
  const errors: string[] = [];
  try {
    new entry.model(structuredClone(obj) as never).validate();
  } catch (err) {
    errors.push(`${where}: ${(err as Error).message}`);
  }
  for (const path of unknownFields(obj, entry.typeName, '')) errors.push(`${where}: unknown field ${path}`);
  return errors;
}

type AttributeMap = { baseName: string; type: string }[];
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap }>;

/** Paths of fields that the Kubernetes type `typeName` does not have. */
export function unknownFields(value: unknown, typeName: string, path: string): string[] {
  const array = /^Array<(.+)>$/.exec(typeName);
  if (array) {
    return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1], `${path}[${i}]`)) : [];
  }
  const cls = models[typeName];
  if (!cls?.getAttributeTypeMap || value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const type = attrs.get(key);
    const sub = path ? `${path}.${key}` : key;
    if (type === undefined) out.push(sub);
    else out.push(...unknownFields(v, type, sub));
  }
  return out;
}
