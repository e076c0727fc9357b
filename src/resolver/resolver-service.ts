/**
 * One running resolver: a source feeding the index (with metrics on the way), and the HTTP routes
 * reading it. The wiring picks the source and the authorize hook; everything else is here.
 */
import type { FastifyInstance } from 'fastify';
import type { CheckResult } from '../http/readiness.js';
import type { SecretObject } from '../kube/objects.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SecretName } from '../registry/precedence.js';
import { RegistryIndex } from './registry-index.js';
import { registerResolverRoutes, type AuthorizeHook, type CredentialChanges, type CredentialLookup } from './routes.js';
import type { RegistrySecretSink, RegistrySecretSource } from './source.js';

export interface ResolverServiceOptions {
  source: RegistrySecretSource;
  systemNamespace: string;
  log: Logger;
  metrics?: Pick<Metrics, 'resolverIndexSecrets' | 'resolverIndexNamespaces' | 'resolverLastEventTimestamp'>;
  /** Absent: the API is open to anyone who reaches the port (local mode); logged at start. */
  authorize?: AuthorizeHook;
  heartbeatMs?: number;
  /** Hear every Secret after the index did (the credential checker). */
  observers?: readonly RegistrySecretSink[];
  /** The credential status shown in answers (see routes). */
  credentials?: CredentialLookup;
  credentialChanges?: CredentialChanges;
}

export interface ResolverService {
  index: RegistryIndex;
  /** Registers the HTTP API on the webhook's server. */
  routes(app: FastifyInstance): void;
  /** The source's readiness (first sync done, still current). */
  readiness(): CheckResult;
  stop(): Promise<void>;
}

/** Starts the source and resolves once the index holds its first full sync. */
export async function startResolverService(options: ResolverServiceOptions): Promise<ResolverService> {
  const { source, log, metrics } = options;
  const index = new RegistryIndex({
    systemNamespace: options.systemNamespace,
    onListenerError: (error) => log.error({ error: (error as Error).message }, 'resolver subscriber failed'),
  });

  const observers = options.observers ?? [];
  const recorded = (): void => {
    if (!metrics) return;
    const size = index.size();
    metrics.resolverIndexSecrets.set(size.secrets);
    metrics.resolverIndexNamespaces.set(size.namespaces);
    metrics.resolverLastEventTimestamp.set(Date.now() / 1000);
  };
  const sink: RegistrySecretSink = {
    replaceAll(secrets: readonly SecretObject[]) {
      index.replaceAll(secrets);
      recorded();
      for (const observer of observers) observer.replaceAll(secrets);
    },
    upsert(secret: SecretObject) {
      index.upsert(secret);
      recorded();
      for (const observer of observers) observer.upsert(secret);
    },
    delete(ref: SecretName) {
      index.delete(ref);
      recorded();
      for (const observer of observers) observer.delete(ref);
    },
  };

  await source.start(sink);
  const size = index.size();
  log.info({ source: source.kind, systemNamespace: options.systemNamespace, ...size }, 'resolver index synced');
  if (!options.authorize) {
    log.warn({ source: source.kind }, 'resolver API authentication is off: anyone who can reach the port can ask which registry a namespace uses');
  }

  return {
    index,
    routes(app) {
      registerResolverRoutes(app, {
        index,
        log,
        ...(options.authorize ? { authorize: options.authorize } : {}),
        ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
        ...(options.credentialChanges ? { credentialChanges: options.credentialChanges } : {}),
      });
    },
    readiness: () => source.readiness(),
    stop: () => source.stop(),
  };
}
