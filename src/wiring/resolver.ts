import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import type { CheckResult } from '../http/readiness.js';
import type { KubeConnection } from '../kube/detect.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { createDirectorySource } from '../resolver/directory-source.js';
import { startResolverService, type ResolverService, type ResolverServiceOptions } from '../resolver/resolver-service.js';
import type { RegistryIndex } from '../resolver/registry-index.js';
import { credentialChecksOff, type RunningCredentialCheck } from './credential-check.js';

/** The bundled examples: what `npm start` serves on a laptop without a cluster. */
export const EXAMPLE_SECRETS_DIR = 'examples/secrets';

export interface RunningResolver {
  mode: 'kubernetes' | 'directory';
  index: RegistryIndex;
  routes: (app: FastifyInstance) => void;
  readiness(): CheckResult;
  stop(): Promise<void>;
}

/**
 * Picks the resolver's source: the Kubernetes watch when a cluster is reachable (and
 * RESOLVER_SOURCE allows it), else the local directory SECRETS_DIR (default: the bundled
 * examples). Auth is on with any Kubernetes source (AUTH=auto) and impossible without one.
 */
export async function startResolver(
  config: Config,
  deps: { log: Logger; metrics: Metrics; kube: KubeConnection | undefined; credentials?: RunningCredentialCheck | undefined },
): Promise<RunningResolver | undefined> {
  const log = deps.log.child({ component: 'resolver' });
  if (config.resolverSource === 'off') return undefined;
  const useKubernetes = config.resolverSource === 'kubernetes' || (config.resolverSource === 'auto' && deps.kube !== undefined);
  if (useKubernetes) {
    if (!deps.kube) throw new Error('RESOLVER_SOURCE=kubernetes needs a kubeconfig or in-cluster config');
    const { startKubernetesResolver } = await import('./kubernetes-resolver.js');
    return startKubernetesResolver(config, { ...deps, kube: deps.kube, log });
  }
  if (config.auth === 'on') throw new Error('AUTH=on needs the Kubernetes resolver source (TokenReview and SubjectAccessReview)');
  const dir = config.secretsDir ?? (existsSync(EXAMPLE_SECRETS_DIR) ? EXAMPLE_SECRETS_DIR : undefined);
  if (dir === undefined) {
    log.info('resolver off: no cluster, no SECRETS_DIR and no examples/secrets');
    return undefined;
  }
  const service: ResolverService = await startResolverService({
    source: createDirectorySource({ dir, log }),
    systemNamespace: config.systemNamespace,
    log,
    metrics: deps.metrics,
    ...credentialOptions(deps.credentials),
  });
  log.info({ dir }, 'resolver serving Secrets from a local directory');
  return { mode: 'directory', index: service.index, routes: (app) => service.routes(app), readiness: () => service.readiness(), stop: () => service.stop() };
}

/** The resolver feeds the credential checker and shows its statuses (or that checks are off). */
export function credentialOptions(credentials: RunningCredentialCheck | undefined): Pick<ResolverServiceOptions, 'observers' | 'credentials' | 'credentialChanges'> {
  if (!credentials) return { credentials: credentialChecksOff };
  return { observers: [credentials.checker], credentials: credentials.lookup, credentialChanges: (listener) => credentials.checker.onStatusChange(listener) };
}
