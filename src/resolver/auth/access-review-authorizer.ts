/**
 * Who may ask the resolver: the caller's bearer token must pass a TokenReview, and a
 * SubjectAccessReview must say that user may `get` `secrets` in the namespace asked about
 * (whoever may read the Secret may learn which registry applies). Both answers are cached for
 * `cacheTtlMs`, denials included; API errors are not cached and surface as a throw (503).
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../logger.js';
import type { AuthorizeDecision, AuthorizeHook } from '../routes.js';
import { createAccessReviews, type AccessReviewResult, type ReviewedUser, type TokenReviewResult } from './access-reviews.js';
import { bearerToken } from './bearer-token.js';
import { DecisionCache } from './decision-cache.js';

export interface AccessReviewAuthorizerOptions {
  kubeConfig: KubeConfig;
  /** How long TokenReview and SubjectAccessReview answers are reused (AUTH_CACHE_TTL); 0: not at all. */
  cacheTtlMs: number;
  log: Logger;
  /** Audiences the token must be valid for; default: the API server's own. */
  audiences?: readonly string[];
  /** Bound of each cache (tokens, user+namespace pairs). Default 10,000. */
  maxCacheEntries?: number;
  /** Per review request. Default 5 s. */
  requestTimeoutMs?: number;
  now?: () => number;
}

export function createAccessReviewAuthorizer(options: AccessReviewAuthorizerOptions): AuthorizeHook {
  const { log, cacheTtlMs } = options;
  const now = options.now ?? Date.now;
  const maxEntries = options.maxCacheEntries ?? 10_000;
  const reviews = createAccessReviews({ kubeConfig: options.kubeConfig, requestTimeoutMs: options.requestTimeoutMs ?? 5000, ...(options.audiences ? { audiences: options.audiences } : {}) });
  // Keyed by the token's hash: the cache never holds a usable credential.
  const tokens = new DecisionCache<TokenReviewResult>({ maxEntries, ttlMs: () => cacheTtlMs, now });
  const access = new DecisionCache<AccessReviewResult>({ maxEntries, ttlMs: (result) => (result.evaluationError ? 0 : cacheTtlMs), now });

  return async (request, namespace): Promise<AuthorizeDecision> => {
    const bearer = bearerToken(request.authorization);
    if (!bearer.ok) return { allowed: false, status: 401, reason: bearer.reason };

    const identity = await tokens.get(sha256(bearer.token), async () => {
      const result = await reviews.reviewToken(bearer.token);
      if (!result.authenticated) log.debug({ detail: result.detail }, 'resolver caller not authenticated');
      return result;
    });
    // Never the API server's text: the caller learns nothing about why a token is bad.
    if (!identity.authenticated) return { allowed: false, status: 401, reason: 'invalid bearer token' };

    const { user } = identity;
    const result = await access.get(accessKey(user, namespace), async () => {
      const answer = await reviews.reviewAccess(user, namespace);
      log.debug({ user: user.username, namespace, allowed: answer.allowed }, 'resolver caller authorization reviewed');
      return answer;
    });
    if (!result.allowed) {
      return { allowed: false, status: 403, reason: `user "${user.username}" may not get secrets in namespace "${namespace}" (RBAC: get secrets in ${namespace} is required)` };
    }
    return { allowed: true };
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** RBAC decides by user, uid and groups; `extra` (per-token ids) is left out so a rotated token reuses the answer. */
function accessKey(user: ReviewedUser, namespace: string): string {
  return sha256(JSON.stringify([user.username, user.uid ?? '', [...user.groups].sort(), namespace]));
}
