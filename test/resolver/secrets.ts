/**
 * Builders for registry Secrets as the API server would send them, and a naive resolver written
 * from the product rules independently of the index (the oracle for tests).
 */
import type { SecretObject } from '../../src/kube/objects.js';

export const SYSTEM = 'kyma-system';
export const NAME = 'serverless-registry-config';
export const DEFAULT_NAME = 'serverless-registry-config-default';
export const REMOTE = 'serverless.kyma-project.io/remote-registry';
export const CLUSTER = 'serverless.kyma-project.io/config';
export const MANAGED_BY = 'serverless.kyma-project.io/managed-by';

/** A password that must never appear in any answer, log line or entry. */
export const CANARY_PASSWORD = 'canary-Pa55w0rd-7f3c9e';
export const CANARY_USERNAME = 'canary-user-41d2';

export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export interface SecretSpec {
  namespace: string;
  name?: string;
  labels?: Record<string, string>;
  /** Plain values, base64-encoded into data. */
  plain?: Record<string, string>;
  /** Keys to leave out of the default plain values. */
  drop?: string[];
  /** Raw data values (not encoded). */
  raw?: Record<string, string>;
  uid?: string;
  rv?: string;
}

export function externalPlain(tag: string): Record<string, string> {
  return {
    username: CANARY_USERNAME,
    password: CANARY_PASSWORD,
    serverAddress: `${tag}.registry.example.com`,
    registryAddress: `${tag}.registry.example.com/kyma`,
  };
}

function build(spec: SecretSpec, name: string, defaults: Record<string, string>, labels: Record<string, string>): SecretObject {
  const plain = { ...defaults, ...spec.plain };
  for (const key of spec.drop ?? []) delete plain[key];
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(plain)) data[key] = b64(value);
  Object.assign(data, spec.raw);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: spec.namespace,
      uid: spec.uid ?? `uid-${spec.namespace}-${name}`,
      resourceVersion: spec.rv ?? '1',
      labels: spec.labels ?? labels,
    },
    type: 'Opaque',
    data,
  };
}

/** `serverless-registry-config` in a namespace, labelled remote-registry: config. */
export function namespaceSecret(namespace: string, spec: Partial<SecretSpec> & { userManaged?: boolean } = {}): SecretObject {
  const labels: Record<string, string> = { [REMOTE]: 'config' };
  if (spec.userManaged) labels[MANAGED_BY] = 'user';
  return build({ ...spec, namespace }, spec.name ?? NAME, externalPlain(namespace), labels);
}

/** The cluster-wide Secret in the system namespace. */
export function clusterSecret(spec: Partial<SecretSpec> = {}): SecretObject {
  const namespace = spec.namespace ?? SYSTEM;
  return build({ ...spec, namespace }, spec.name ?? NAME, externalPlain('cluster'), { [REMOTE]: 'config', [CLUSTER]: 'credentials' });
}

/** The internal registry: no username/password, internal addresses. */
export function defaultSecret(spec: Partial<SecretSpec> = {}): SecretObject {
  const namespace = spec.namespace ?? SYSTEM;
  return build(
    { ...spec, namespace },
    spec.name ?? DEFAULT_NAME,
    {
      registryAddress: 'localhost:32137',
      serverAddress: 'internal-registry.kyma-system.svc:5000',
      isInternal: 'true',
      pushRegAddr: 'internal-registry.kyma-system.svc:5000',
      pullRegAddr: 'localhost:32137',
    },
    {},
  );
}

export function refOf(secret: SecretObject): { namespace: string; name: string } {
  return { namespace: secret.metadata?.namespace as string, name: secret.metadata?.name as string };
}
