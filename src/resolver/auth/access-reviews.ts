/**
 * The two API calls behind resolver auth, reduced to plain answers: TokenReview (who is this
 * token?) and SubjectAccessReview (may that user get Secrets in a namespace?). An API error is
 * thrown with a message that carries neither the token nor a response body.
 */
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { describeApiError } from '../../kube/api-status.js';
import { requestOptions } from '../../kube/request-options.js';
import { retryAfterOf429 } from '../../kube/throttling.js';

export interface ReviewedUser {
  username: string;
  uid: string | undefined;
  groups: string[];
  extra: Record<string, string[]>;
}

export type TokenReviewResult =
  | { authenticated: true; user: ReviewedUser }
  /** `detail`: the API server's reason with the token cut out, for debug logs only. */
  | { authenticated: false; detail: string };

export interface AccessReviewResult {
  allowed: boolean;
  /** The authorizer could not fully evaluate the request; such a denial is not worth remembering. */
  evaluationError: boolean;
}

export interface AccessReviews {
  reviewToken(token: string): Promise<TokenReviewResult>;
  /** May `user` get Secrets in `namespace`? */
  reviewAccess(user: ReviewedUser, namespace: string): Promise<AccessReviewResult>;
}

const USER_AGENT = 'registry-config-webhook/resolver-auth';

/** The API server answered 429 (API Priority and Fairness): wait `retryAfterSeconds` before the next call. */
export class ApiServerThrottled extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`API server throttled the review (429); retry after ${retryAfterSeconds} s`);
    this.name = 'ApiServerThrottled';
  }
}

/** The wait a 429 asks for (kube/throttling.ts), in whole seconds and at most a minute for reviews. */
export function throttledError(err: unknown): ApiServerThrottled | undefined {
  const retryAfterMs = retryAfterOf429(err);
  if (retryAfterMs === undefined) return undefined;
  return new ApiServerThrottled(Math.min(60, Math.ceil(retryAfterMs / 1000)));
}

export function createAccessReviews(options: { kubeConfig: KubeConfig; audiences?: readonly string[]; requestTimeoutMs: number }): AccessReviews {
  const authn = options.kubeConfig.makeApiClient(AuthenticationV1Api);
  const authz = options.kubeConfig.makeApiClient(AuthorizationV1Api);
  const callOptions = () => requestOptions({ userAgent: USER_AGENT, timeoutMs: options.requestTimeoutMs });
  const audiences = options.audiences && options.audiences.length > 0 ? [...options.audiences] : undefined;

  return {
    async reviewToken(token) {
      let status;
      try {
        const review = await authn.createTokenReview(
          { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } } },
          callOptions(),
        );
        status = review.status;
      } catch (err) {
        throw throttledError(err) ?? new Error(`TokenReview failed: ${withoutToken(describeApiError(err), token)}`);
      }
      // A failed review is still a 201: `{user: {}, error: "..."}` without an `authenticated` key.
      const username = status?.user?.username;
      if (status?.authenticated !== true || !username) {
        return { authenticated: false, detail: withoutToken(status?.error ?? 'not authenticated', token).slice(0, 300) };
      }
      // An audience-aware server names the audience it checked; one that ignores spec.audiences does not.
      if (audiences && !(status.audiences ?? []).some((a) => audiences.includes(a))) {
        return { authenticated: false, detail: `token not valid for audiences ${audiences.join(', ')}` };
      }
      const user = status.user;
      return {
        authenticated: true,
        user: { username, uid: user?.uid || undefined, groups: [...(user?.groups ?? [])], extra: { ...(user?.extra ?? {}) } },
      };
    },

    async reviewAccess(user, namespace) {
      try {
        const review = await authz.createSubjectAccessReview(
          {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SubjectAccessReview',
              spec: {
                user: user.username,
                groups: user.groups,
                extra: user.extra,
                ...(user.uid !== undefined ? { uid: user.uid } : {}),
                resourceAttributes: { namespace, verb: 'get', group: '', version: 'v1', resource: 'secrets' },
              },
            },
          },
          callOptions(),
        );
        return { allowed: review.status?.allowed === true, evaluationError: Boolean(review.status?.evaluationError) };
      } catch (err) {
        throw throttledError(err) ?? new Error(`SubjectAccessReview failed: ${describeApiError(err)}`);
      }
    },
  };
}

/** Error texts are not expected to carry the token; make sure. */
function withoutToken(text: string, token: string): string {
  return token === '' ? text : text.split(token).join('[token]');
}
