/**
 * Schema validation of rendered objects with kubernetes-models (the Kubernetes OpenAPI schemas).
 * cert-manager and Prometheus Operator kinds are CRDs that kubernetes-models does not know: they get a
 * minimal structural check instead.
 */
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { K8sObject } from './helm.js';

type Validatable = { validate(): void };
type ModelClass = new (data: any) => Validatable;

const MODELS: Record<string, ModelClass> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': MutatingWebhookConfiguration,
};

/** CRD kinds the chart may render, checked minimally (apiVersion/kind known, name, spec present). */
const CRD_KINDS = new Set(['cert-manager.io/v1/Certificate', 'cert-manager.io/v1/Issuer', 'monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule']);

const DNS_SUBDOMAIN = /^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;

/** Throws with the object's kind/name and the schema's message when an object is invalid. */
export function validateObject(object: K8sObject): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const where = `${object.kind}/${object.metadata?.name ?? '?'}`;
  if (!object.metadata?.name || !DNS_SUBDOMAIN.test(object.metadata.name) || object.metadata.name.length > 253) {
    throw new Error(`${where}: metadata.name is not a DNS subdomain`);
  }
  const Model = MODELS[key];
  if (Model) {
    try {
      new Model(object).validate();
    } catch (err) {
      throw new Error(`${where} fails the ${key} schema: ${(err as Error).message}`);
    }
    return;
  }
  if (CRD_KINDS.has(key)) {
    if (typeof object.spec !== 'object' || object.spec === null) throw new Error(`${where}: no spec`);
    if (!object.metadata.namespace) throw new Error(`${where}: namespaced CRD without metadata.namespace`);
    return;
  }
  throw new Error(`${where}: no schema for ${key}; add it to test/chart/validate.ts`);
}
