/**
 * Resolver auth as deployed: issuer keys read from the API server (kept fresh in the background),
 * offline verification of ServiceAccount tokens, then TokenReview + SubjectAccessReview within
 * the review budget.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { AuthorizeHook } from '../routes.js';
import { type AuthMetrics, createAccessReviewAuthorizer } from './access-review-authorizer.js';
import { discoveryKeySource, IssuerKeys, type IssuerKeysOptions } from './issuer-keys.js';
import { createTokenVerifier } from './token-verifier.js';

export interface ServiceAccountAuthOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  cacheTtlMs: number;
  audiences?: readonly string[];
  /** Accepted besides the issuer when `audiences` is unset: the API server's default audiences. */
  defaultAudiences?: readonly string[];
  budget: { perSecond: number; maxInFlight: number };
  metrics?: AuthMetrics & Pick<Metrics, 'authKeyRefreshes'>;
  requestTimeoutMs?: number;
  /** Key refresh timing (tests make it short). */
  keys?: Partial<Pick<IssuerKeysOptions, 'refreshIntervalMs' | 'minRefreshIntervalMs' | 'retryInitialMs' | 'retryMaxMs' | 'source'>>;
  now?: () => number;
}

export interface ServiceAccountAuth {
  authorize: AuthorizeHook;
  /** The issuer keys were read at least once (offline verification is on). */
  verifying(): boolean;
  stop(): void;
}

/** Reads the keys once (a failure is logged, not thrown: TokenReview under the budget decides meanwhile). */
export async function startServiceAccountAuth(options: ServiceAccountAuthOptions): Promise<ServiceAccountAuth> {
  const { log, metrics } = options;
  const timeoutMs = options.requestTimeoutMs ?? 5000;
  let failing = false;
  const keys = new IssuerKeys({
    ...options.keys,
    source: options.keys?.source ?? discoveryKeySource(options.kubeConfig, timeoutMs),
    ...(options.now ? { now: options.now } : {}),
    onRefresh: (set) => {
      metrics?.authKeyRefreshes.inc({ result: 'success' });
      if (failing) log.info('service-account issuer keys read again: offline token verification is back on');
      failing = false;
      log.debug({ issuer: set.issuer, keyIds: [...set.keyIds] }, 'service-account issuer keys read');
    },
    onError: (message) => {
      metrics?.authKeyRefreshes.inc({ result: 'failure' });
      // Said once per outage; the retries are counted in the metric.
      if (!failing) log.warn({ error: message }, 'service-account issuer keys unavailable: tokens are checked by TokenReview only (within the review budget) until they can be read');
      failing = true;
    },
  });
  await keys.start();
  const verifier = createTokenVerifier({ keys, audiences: options.audiences ?? [], defaultAudiences: options.defaultAudiences ?? [], ...(options.now ? { now: options.now } : {}) });
  const authorize = createAccessReviewAuthorizer({
    kubeConfig: options.kubeConfig,
    cacheTtlMs: options.cacheTtlMs,
    log,
    verifier,
    budget: options.budget,
    requestTimeoutMs: timeoutMs,
    ...(options.audiences ? { audiences: options.audiences } : {}),
    ...(metrics ? { metrics } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  return { authorize, verifying: () => keys.current() !== undefined, stop: () => keys.stop() };
}
