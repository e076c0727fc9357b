/** Shared setup for the Kubernetes resolver tests: a fake API server, the real source, a poller. */
import type { FakeApiServer } from '../../support/fake-apiserver.js';
import { captureLogs } from '../../support/log-capture.js';
import { createKubernetesSource, type KubernetesSourceOptions } from '../../../src/resolver/kubernetes-source.js';
import { startResolverService, type ResolverService } from '../../../src/resolver/resolver-service.js';
import type { RegistrySecretSource } from '../../../src/resolver/source.js';
import type { SecretObject } from '../../../src/kube/objects.js';
import { SYSTEM } from '../secrets.js';

/** Polls `check` until it returns without throwing (or a truthy value), else fails with its last error. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 3000, intervalMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value !== false) return value;
      if (Date.now() > deadline) throw new Error('eventually: still false');
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Fast settings: short backoff, long resync (tests trigger re-lists themselves). */
export function sourceOptions(fake: FakeApiServer, overrides: Partial<KubernetesSourceOptions> = {}): KubernetesSourceOptions {
  return {
    kubeConfig: fake.kubeConfig(),
    systemNamespace: SYSTEM,
    resyncPeriodMs: 60_000,
    maxStalenessMs: 60_000,
    log: captureLogs('debug').log,
    backoff: { initialMs: 10, maxMs: 50 },
    ...overrides,
  };
}

export interface RunningService {
  service: ResolverService;
  source: RegistrySecretSource;
}

export async function startService(fake: FakeApiServer, overrides: Partial<KubernetesSourceOptions> = {}): Promise<RunningService> {
  const options = sourceOptions(fake, overrides);
  const source = createKubernetesSource(options);
  const service = await startResolverService({ source, systemNamespace: SYSTEM, log: options.log });
  return { service, source };
}

/** What the fake should store: the builders' objects (their uid is kept; resourceVersion is the fake's). */
export function stored(secret: SecretObject): SecretObject {
  return { ...secret, metadata: { ...secret.metadata, resourceVersion: undefined } };
}

export function withLabels(secret: SecretObject, labels: Record<string, string>): SecretObject {
  return { ...secret, metadata: { ...secret.metadata, labels } };
}

/**
 * A ServiceAccount `team-a/reader` that may get Secrets in team-a only: a Role and RoleBinding,
 * as a controller author would apply them for the resolver API.
 */
export function seedSecretReader(fake: FakeApiServer): void {
  fake.seed([
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: 'team-a' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'secret-reader', namespace: 'team-a' },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader-secret-reader', namespace: 'team-a' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secret-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'team-a' }],
    },
  ]);
}
