/**
 * What a copy of the cluster-wide registry Secret looks like, and whether an existing Secret
 * already is one. Pure: no I/O, no clock.
 *
 * A copy compares equal on `type`, `data`, labels and the source it names (`namespace/name`), not
 * on the base's resourceVersion in the annotation: a change to the base's metadata alone (a
 * finalizer, an annotation) must not rewrite a thousand copies. The annotation's resourceVersion
 * is the base version the copy's content was last written from.
 */
import { isDeepStrictEqual } from 'node:util';
import { isRecord, ownValue } from '../registry/guards.js';
import {
  CLUSTER_CONFIG_LABEL,
  DOCKER_CONFIG_JSON_KEY,
  MANAGED_BY_LABEL,
  encodedDockerConfigJson,
  labelsOf,
  nameOf,
  namespaceOf,
  type RegistryCredentials,
} from '../registry/index.js';
import { COPY_MANAGED_BY_LABEL, COPY_MANAGED_BY_VALUE, COPY_NAME, SOURCE_ANNOTATION } from './names.js';
import type { SecretObject } from './types.js';

/** The API server's default when a Secret is written without `type`. */
export const DEFAULT_SECRET_TYPE = 'Opaque';

/** The namespace-independent content every copy of one base version carries. */
export interface DesiredCopy {
  type: string;
  data: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  /** `namespace/name` of the base. */
  sourceRef: string;
  /** `namespace/name@resourceVersion`: the annotation value written with the content. */
  sourceAnnotation: string;
}

/** `namespace/name` of the base, the part of the source annotation copies are compared on. */
export function sourceRefFor(systemNamespace: string): string {
  return `${systemNamespace}/${COPY_NAME}`;
}

/**
 * The copy of `base` (already known to be the valid cluster-wide Secret with `credentials`):
 * same type and data, `.dockerconfigjson` exactly as our webhook derives it (so writing the copy
 * passes the webhook without a patch, and the webhook's output never differs from what we
 * compare against: no write loop even for a base stored before the webhook existed), the base's
 * labels minus `config: credentials` (a copy must never look like a base) and minus the user
 * opt-out `managed-by` (a copy carrying it would lock itself), plus our managed-by label.
 */
export function desiredCopy(base: SecretObject, credentials: RegistryCredentials): DesiredCopy {
  const namespace = namespaceOf(base) ?? '';
  const name = nameOf(base) ?? COPY_NAME;
  const baseData = isRecord(base.data) ? base.data : {};
  const data = Object.fromEntries([
    ...Object.entries(baseData).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== DOCKER_CONFIG_JSON_KEY,
    ),
    [DOCKER_CONFIG_JSON_KEY, encodedDockerConfigJson(credentials)],
  ]);
  const labels = labelsOf(base);
  delete labels[CLUSTER_CONFIG_LABEL];
  delete labels[MANAGED_BY_LABEL];
  labels[COPY_MANAGED_BY_LABEL] = COPY_MANAGED_BY_VALUE;
  const resourceVersion = typeof base.metadata?.resourceVersion === 'string' ? base.metadata.resourceVersion : '';
  return {
    type: typeof base.type === 'string' && base.type !== '' ? base.type : DEFAULT_SECRET_TYPE,
    data: sortedRecord(data),
    labels: sortedRecord(labels),
    sourceRef: `${namespace}/${name}`,
    sourceAnnotation: `${namespace}/${name}@${resourceVersion}`,
  };
}

/** The body of a create in `namespace`. */
export function copyManifest(desired: DesiredCopy, namespace: string): SecretObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: COPY_NAME,
      namespace,
      labels: { ...desired.labels },
      annotations: { [SOURCE_ANNOTATION]: desired.sourceAnnotation },
    },
    type: desired.type,
    data: { ...desired.data },
  };
}

/**
 * The body of an update (PUT) of `existing` to the desired content: labels become exactly the
 * desired ones (compared exactly, so anything else would be rewritten on every pass), other
 * annotations, finalizers and owner references stay (a PUT drops whatever it leaves out), and
 * `resourceVersion` makes a concurrent change a 409 instead of a lost update.
 */
export function copyForUpdate(desired: DesiredCopy, existing: SecretObject): SecretObject {
  const meta = existing.metadata ?? {};
  const annotations = { ...stringRecord(meta.annotations), [SOURCE_ANNOTATION]: desired.sourceAnnotation };
  const metadata: NonNullable<SecretObject['metadata']> = {
    name: COPY_NAME,
    namespace: namespaceOf(existing) ?? '',
    labels: { ...desired.labels },
    annotations,
  };
  if (typeof meta.uid === 'string') metadata.uid = meta.uid;
  if (typeof meta.resourceVersion === 'string') metadata.resourceVersion = meta.resourceVersion;
  if (Array.isArray(meta.finalizers) && meta.finalizers.length > 0) metadata.finalizers = [...meta.finalizers];
  const owners = ownValue(meta, 'ownerReferences');
  if (Array.isArray(owners) && owners.length > 0) metadata.ownerReferences = owners;
  return { apiVersion: 'v1', kind: 'Secret', metadata, type: desired.type, data: { ...desired.data } };
}

/** Whether `existing` already has the desired content (see the module comment for what counts). */
export function copyMatches(existing: SecretObject, desired: DesiredCopy): boolean {
  const type = typeof existing.type === 'string' && existing.type !== '' ? existing.type : DEFAULT_SECRET_TYPE;
  return (
    type === desired.type &&
    isDeepStrictEqual(sortedRecord(stringRecord(existing.data)), desired.data) &&
    isDeepStrictEqual(sortedRecord(labelsOf(existing)), desired.labels) &&
    sourceOf(existing)?.ref === desired.sourceRef
  );
}

/** Secret `type` cannot change and an immutable Secret cannot be updated: such a copy is replaced. */
export function needsReplacement(existing: SecretObject, desired: DesiredCopy): boolean {
  const type = typeof existing.type === 'string' && existing.type !== '' ? existing.type : DEFAULT_SECRET_TYPE;
  return type !== desired.type || ownValue(existing, 'immutable') === true;
}

/** The source annotation of `secret`, split into `namespace/name` and resourceVersion. */
export function sourceOf(secret: SecretObject): { ref: string; resourceVersion: string } | undefined {
  const value = stringRecord(secret.metadata?.annotations)[SOURCE_ANNOTATION];
  if (value === undefined) return undefined;
  const at = value.lastIndexOf('@');
  return at < 0 ? { ref: value, resourceVersion: '' } : { ref: value.slice(0, at), resourceVersion: value.slice(at + 1) };
}

function stringRecord(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** Key order does not matter to the API server; sorting makes deep comparison order-independent. */
function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
