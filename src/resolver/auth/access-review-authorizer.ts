/**
 * Who may ask the resolver. In order, cheapest first:
 *  1. the bearer token must look like a ServiceAccount token (a JWT with an asymmetric alg and a kid);
 *  2. it must verify offline against the issuer's published keys (signature, issuer, expiry,
 *     audience) — skipped only while discovery is unavailable;
 *  3. a TokenReview must accept it (revocation, bound Pods and Secrets: only the API server knows);
 *  4. a SubjectAccessReview must say that user may `get` `secrets` in the namespace asked about
 *     (whoever may read the Secret may learn which registry applies).
 * 1 and 2 make no API call. 3 and 4 are cached for `cacheTtlMs` (denials included; API errors are
 * not cached and surface as a throw, 503) and are made only within the review budget: past it,
 * or while the API server says 429, the answer is 429 with Retry-After at once.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { AuthorizeDecision, AuthorizeHook } from '../routes.js';
import { ApiServerThrottled, createAccessReviews, type AccessReviewResult, type AccessReviews, type ReviewedUser, type TokenReviewResult } from './access-reviews.js';
import { bearerToken } from './bearer-token.js';
import { DecisionCache } from './decision-cache.js';
import { ReviewBudget, ReviewBudgetExceeded } from './review-budget.js';
import { checkTokenShape } from './token-shape.js';
import type { TokenVerifier } from './token-verifier.js';

export type AuthMetrics = Pick<Metrics, 'authLocalRejections' | 'authReviews' | 'authBudgetRefusals'>;

export interface AccessReviewAuthorizerOptions {
  kubeConfig: KubeConfig;
  /** How long TokenReview and SubjectAccessReview answers are reused (AUTH_CACHE_TTL); 0: not at all. */
  cacheTtlMs: number;
  log: Logger;
  /** Audiences the token must be valid for; default: the API server's own. */
  audiences?: readonly string[];
  /** Offline verification of ServiceAccount tokens; absent: every well-formed token goes to TokenReview. */
  verifier?: TokenVerifier;
  /** Reviews per second and in flight (AUTH_REVIEWS_PER_SECOND, AUTH_REVIEWS_IN_FLIGHT). Default 20 / 10. */
  budget?: { perSecond: number; maxInFlight: number };
  metrics?: AuthMetrics;
  /** Bound of each cache (tokens, user+namespace pairs). Default 10,000. */
  maxCacheEntries?: number;
  /** Per review request. Default 5 s. */
  requestTimeoutMs?: number;
  now?: () => number;
  /** For tests: the API calls. */
  reviews?: AccessReviews;
}

const INVALID_TOKEN = 'invalid bearer token';

export function createAccessReviewAuthorizer(options: AccessReviewAuthorizerOptions): AuthorizeHook {
  const { log, cacheTtlMs, metrics, verifier } = options;
  const now = options.now ?? Date.now;
  const maxEntries = options.maxCacheEntries ?? 10_000;
  const reviews = options.reviews ?? createAccessReviews({ kubeConfig: options.kubeConfig, requestTimeoutMs: options.requestTimeoutMs ?? 5000, ...(options.audiences ? { audiences: options.audiences } : {}) });
  const budget = new ReviewBudget({ perSecond: options.budget?.perSecond ?? 20, maxInFlight: options.budget?.maxInFlight ?? 10, now });
  // Keyed by the token's hash: the cache never holds a usable credential.
  const tokens = new DecisionCache<TokenReviewResult>({ maxEntries, ttlMs: () => cacheTtlMs, now });
  const access = new DecisionCache<AccessReviewResult>({ maxEntries, ttlMs: (result) => (result.evaluationError ? 0 : cacheTtlMs), now });

  const rejectLocally = (reason: string, message: string): AuthorizeDecision => {
    metrics?.authLocalRejections.inc({ reason });
    return { allowed: false, status: 401, reason: message };
  };

  /** One review call within the budget; the API server's 429 pauses the budget and is passed on. */
  const review = async <T>(kind: 'token_review' | 'subject_access_review', call: () => Promise<T>, result: (value: T) => string): Promise<T> => {
    try {
      const value = await budget.run(call);
      metrics?.authReviews.inc({ kind, result: result(value) });
      return value;
    } catch (err) {
      if (err instanceof ReviewBudgetExceeded) throw err;
      if (err instanceof ApiServerThrottled) {
        metrics?.authReviews.inc({ kind, result: 'throttled' });
        budget.pauseFor(err.retryAfterSeconds);
        throw new ReviewBudgetExceeded('apiserver-throttled', err.retryAfterSeconds);
      }
      metrics?.authReviews.inc({ kind, result: 'error' });
      throw err;
    }
  };

  const decide = async (authorization: string | undefined, namespace: string): Promise<AuthorizeDecision> => {
    const bearer = bearerToken(authorization);
    if (!bearer.ok) return rejectLocally(authorization === undefined || authorization.trim() === '' ? 'missing' : 'malformed-header', bearer.reason);
    const { token } = bearer;
    const shape = checkTokenShape(token);
    if (!shape.ok) return rejectLocally(shape.reason, 'invalid bearer token: not a ServiceAccount token (a signed JWT)');
    if (verifier) {
      const verdict = await verifier.verify(token, shape.keyId);
      // Never say which check failed: the caller learns nothing about why a token is bad.
      if (verdict.verified === false) return rejectLocally(verdict.reason, INVALID_TOKEN);
    }

    const identity = await tokens.get(sha256(token), () =>
      review('token_review', () => reviews.reviewToken(token), (r) => (r.authenticated ? 'authenticated' : 'unauthenticated')).then((result) => {
        if (!result.authenticated) log.debug({ detail: result.detail }, 'resolver caller not authenticated');
        return result;
      }),
    );
    if (!identity.authenticated) return { allowed: false, status: 401, reason: INVALID_TOKEN };

    const { user } = identity;
    const result = await access.get(accessKey(user, namespace), async () => {
      const answer = await review('subject_access_review', () => reviews.reviewAccess(user, namespace), (r) => (r.allowed ? 'allowed' : 'denied'));
      log.debug({ user: user.username, namespace, allowed: answer.allowed }, 'resolver caller authorization reviewed');
      return answer;
    });
    if (!result.allowed) {
      return { allowed: false, status: 403, reason: `user "${user.username}" may not get secrets in namespace "${namespace}" (RBAC: get secrets in ${namespace} is required)` };
    }
    return { allowed: true };
  };

  return async (request, namespace): Promise<AuthorizeDecision> => {
    try {
      return await decide(request.authorization, namespace);
    } catch (err) {
      if (!(err instanceof ReviewBudgetExceeded)) throw err;
      metrics?.authBudgetRefusals.inc({ reason: err.refusal });
      return { allowed: false, status: 429, reason: 'too many authentication reviews in progress; retry later', retryAfterSeconds: err.retryAfterSeconds };
    }
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** RBAC decides by user, uid and groups; `extra` (per-token ids) is left out so a rotated token reuses the answer. */
function accessKey(user: ReviewedUser, namespace: string): string {
  return sha256(JSON.stringify([user.username, user.uid ?? '', [...user.groups].sort(), namespace]));
}
