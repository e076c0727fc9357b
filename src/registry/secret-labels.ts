/**
 * Reading labels and recognising registry-config Secrets on objects of unknown shape
 * (admission bodies, watch events, list items). Never throws; anything malformed does not match.
 */
import type { SecretObject } from '../kube/objects.js';
import { isRecord, ownValue } from './guards.js';
import {
  CLUSTER_CONFIG_LABEL,
  CLUSTER_CONFIG_LABEL_VALUE,
  MANAGED_BY_LABEL,
  MANAGED_BY_USER,
  REMOTE_REGISTRY_LABEL,
  REMOTE_REGISTRY_LABEL_VALUE,
} from './labels.js';

/** The string-valued labels of `obj` (a fresh object); `{}` when it has none or they are malformed. */
export function labelsOf(obj: unknown): Record<string, string> {
  if (!isRecord(obj)) return {};
  const metadata = ownValue(obj, 'metadata');
  if (!isRecord(metadata)) return {};
  const raw = ownValue(metadata, 'labels');
  if (!isRecord(raw)) return {};
  // fromEntries defines own properties, so even a label named `__proto__` stays a plain entry.
  return Object.fromEntries(
    Object.entries(raw).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** The value of label `key` on `obj`, if it is a string. */
export function labelValue(obj: unknown, key: string): string | undefined {
  if (!isRecord(obj)) return undefined;
  const metadata = ownValue(obj, 'metadata');
  if (!isRecord(metadata)) return undefined;
  const labels = ownValue(metadata, 'labels');
  if (!isRecord(labels)) return undefined;
  const value = ownValue(labels, key);
  return typeof value === 'string' ? value : undefined;
}

/** Whether `obj` carries label `key` with exactly `value`. */
export function hasLabel(obj: unknown, key: string, value: string): boolean {
  return labelValue(obj, key) === value;
}

/** Carries `serverless.kyma-project.io/remote-registry: config`: the webhook acts on it, the resolver watches it. */
export function isRegistryConfigSecret(obj: unknown): obj is SecretObject {
  return hasLabel(obj, REMOTE_REGISTRY_LABEL, REMOTE_REGISTRY_LABEL_VALUE);
}

/** The cluster-wide registry: a registry-config Secret labelled `config: credentials` in the system namespace. */
export function isClusterRegistryConfigSecret(obj: unknown, systemNamespace: string): obj is SecretObject {
  return (
    isRegistryConfigSecret(obj) &&
    hasLabel(obj, CLUSTER_CONFIG_LABEL, CLUSTER_CONFIG_LABEL_VALUE) &&
    namespaceOf(obj) === systemNamespace
  );
}

/** Labelled `managed-by: user`: the namespace owns it; cluster-wide config neither wins nor overwrites it. */
export function isUserManagedSecret(obj: unknown): boolean {
  return hasLabel(obj, MANAGED_BY_LABEL, MANAGED_BY_USER);
}

/** `metadata.name` when it is a non-empty string. */
export function nameOf(obj: unknown): string | undefined {
  return metadataString(obj, 'name');
}

/** `metadata.namespace` when it is a non-empty string. */
export function namespaceOf(obj: unknown): string | undefined {
  return metadataString(obj, 'namespace');
}

function metadataString(obj: unknown, field: string): string | undefined {
  if (!isRecord(obj)) return undefined;
  const metadata = ownValue(obj, 'metadata');
  if (!isRecord(metadata)) return undefined;
  const value = ownValue(metadata, field);
  return typeof value === 'string' && value !== '' ? value : undefined;
}
