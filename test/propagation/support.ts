/** Builders for propagation tests: plain JSON as the API server sends it, made with Buffer, not the code under test. */
import type { NamespaceObject, SecretObject } from '../../src/propagation/types.js';

export const SYSTEM_NS = 'kyma-system';
export const NAME = 'serverless-registry-config';
export const REMOTE = 'serverless.kyma-project.io/remote-registry';
export const CONFIG = 'serverless.kyma-project.io/config';
export const USER_OPT_OUT = 'serverless.kyma-project.io/managed-by';
export const OURS = 'app.kubernetes.io/managed-by';
export const OURS_VALUE = 'registry-config-webhook';
export const SOURCE = 'registry-config-webhook.kyma-project.io/source';
export const FINALIZER = 'registry-config-webhook.kyma-project.io/propagation';

export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export const PLAIN = {
  username: 'admin',
  password: 's3cr3t-pass',
  serverAddress: 'registry.example.com:5000',
  registryAddress: 'registry.example.com:5000/kyma',
};

/** What kubectl would store in `.dockerconfigjson` for `plain`. */
export function dockerConfigJsonOf(plain: typeof PLAIN): string {
  const auth = b64(`${plain.username}:${plain.password}`);
  return b64(`{"auths":{"${plain.serverAddress}":{"username":"${plain.username}","password":"${plain.password}","auth":"${auth}"}}}`);
}

export function encodedData(plain: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, b64(v)]));
}

/** The cluster-wide base as stored (webhook already ran: `.dockerconfigjson` present). */
export function baseSecret(
  overrides: { plain?: typeof PLAIN; labels?: Record<string, string>; rv?: string; uid?: string; type?: string; namespace?: string; finalizers?: string[]; deletionTimestamp?: string; withDockerConfig?: boolean } = {},
): SecretObject {
  const plain = overrides.plain ?? PLAIN;
  const data = encodedData(plain);
  if (overrides.withDockerConfig ?? true) data['.dockerconfigjson'] = dockerConfigJsonOf(plain);
  const metadata: NonNullable<SecretObject['metadata']> = {
    name: NAME,
    namespace: overrides.namespace ?? SYSTEM_NS,
    uid: overrides.uid ?? 'base-uid',
    resourceVersion: overrides.rv ?? '100',
    labels: overrides.labels ?? { [REMOTE]: 'config', [CONFIG]: 'credentials' },
  };
  if (overrides.finalizers) metadata.finalizers = overrides.finalizers;
  if (overrides.deletionTimestamp) metadata.deletionTimestamp = overrides.deletionTimestamp;
  return { apiVersion: 'v1', kind: 'Secret', metadata, type: overrides.type ?? 'kubernetes.io/dockerconfigjson', data };
}

export function namespace(name: string, extra: { labels?: Record<string, string>; terminating?: boolean } = {}): NamespaceObject {
  const ns: NamespaceObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, uid: `ns-${name}`, resourceVersion: '1', labels: { 'kubernetes.io/metadata.name': name, ...extra.labels } },
    status: { phase: extra.terminating ? 'Terminating' : 'Active' },
  };
  if (extra.terminating && ns.metadata) ns.metadata.deletionTimestamp = '2026-11-27T18:07:40Z';
  return ns;
}

/** A Secret of the copy's name in `ns` with the given labels/annotations/data (a user's, or an edited copy). */
export function secretIn(
  ns: string,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string>; data?: Record<string, string>; type?: string; rv?: string; uid?: string; immutable?: boolean } = {},
): SecretObject {
  const s: SecretObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: NAME,
      namespace: ns,
      uid: extra.uid ?? `uid-${ns}`,
      resourceVersion: extra.rv ?? '7',
      labels: extra.labels ?? { [REMOTE]: 'config' },
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    type: extra.type ?? 'kubernetes.io/dockerconfigjson',
    data: extra.data ?? encodedData({ ...PLAIN, password: 'someone-elses' }),
  };
  if (extra.immutable) s.immutable = true;
  return s;
}

export { eventually } from '../support/eventually.js';
