import type { Config } from '../config/config.js';
import type { KubeConnection } from '../kube/detect.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { ownTokenAudiences } from '../kube/own-token-audiences.js';
import { startServiceAccountAuth, type ServiceAccountAuth } from '../resolver/auth/service-account-auth.js';
import { createKubernetesSource } from '../resolver/kubernetes-source.js';
import { startResolverService } from '../resolver/resolver-service.js';
import type { RunningCredentialCheck } from './credential-check.js';
import { credentialOptions, type RunningResolver } from './resolver.js';

/**
 * AUTH=auto means on whenever the resolver is fed from a Kubernetes API, in a cluster or through a
 * kubeconfig: TokenReview and SubjectAccessReview work in both, and the index holds that cluster's
 * registry credentials. Only AUTH=off turns it off (the directory source never has it).
 */
export function resolverAuthEnabled(config: Pick<Config, 'auth'>): boolean {
  return config.auth !== 'off';
}

/** The resolver fed by a Kubernetes list+watch, with TokenReview/SubjectAccessReview auth. */
export async function startKubernetesResolver(
  config: Config,
  deps: { log: Logger; metrics: Metrics; kube: KubeConnection; credentials?: RunningCredentialCheck | undefined },
): Promise<RunningResolver> {
  const { log, metrics, kube } = deps;
  const auth = resolverAuthEnabled(config);
  if (auth) {
    log.info(
      { cacheTtlMs: config.authCacheTtlMs, reviewsPerSecond: config.authReviewsPerSecond, reviewsInFlight: config.authReviewsInFlight },
      'resolver API auth on: callers need a ServiceAccount token (verified offline, then TokenReview) allowed to get secrets in the namespace they ask about (SubjectAccessReview)',
    );
  } else {
    // The resolver service warns about the consequence; this says why.
    log.info({ auth: config.auth, inCluster: kube.inCluster }, 'resolver API auth off (AUTH=off)');
  }
  const authn: ServiceAccountAuth | undefined = auth
    ? await startServiceAccountAuth({
      kubeConfig: kube.kubeConfig,
      log,
      metrics,
      cacheTtlMs: config.authCacheTtlMs,
      budget: { perSecond: config.authReviewsPerSecond, maxInFlight: config.authReviewsInFlight },
      ...(config.authAudiences ? { audiences: config.authAudiences } : { defaultAudiences: kube.inCluster ? ownTokenAudiences() : [] }),
    })
    : undefined;
  const service = await startResolverService({
    source: createKubernetesSource({
      kubeConfig: kube.kubeConfig,
      systemNamespace: config.systemNamespace,
      resyncPeriodMs: config.resyncPeriodMs,
      maxStalenessMs: config.resolverMaxStalenessMs,
      log,
      metrics,
    }),
    systemNamespace: config.systemNamespace,
    log,
    metrics,
    ...credentialOptions(deps.credentials),
    ...(authn ? { authorize: authn.authorize } : {}),
  });
  // The staleness alert fires at half of this; 0 (the default) elsewhere keeps it silent.
  metrics.resolverMaxStaleness.set(config.resolverMaxStalenessMs / 1000);
  log.info({ systemNamespace: config.systemNamespace, resyncPeriodMs: config.resyncPeriodMs, maxStalenessMs: config.resolverMaxStalenessMs }, 'resolver serving Secrets from the Kubernetes API');
  return {
    mode: 'kubernetes',
    index: service.index,
    routes: (app) => service.routes(app),
    readiness: () => service.readiness(),
    stop: async () => {
      authn?.stop();
      await service.stop();
    },
  };
}
