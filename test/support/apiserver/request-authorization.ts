/**
 * Authorization of the fake's own requests, as kube-apiserver's RBAC authorizer does it: the
 * request's attributes (RequestInfo), the decision over stored roles, and the 403 it answers.
 * No recording has a 403 of RBAC: the message follows apiserver's forbiddenMessage and
 * apierrors.NewForbidden (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters).
 */
import { rbacDecision, type SubjectAccessReviewSpec, type UserInfo } from './auth.js';
import type { ResourceRoute } from './routes.js';
import { errors, type ApiError } from './status.js';
import type { ObjectStore } from './store.js';
import type { KubeObject, Verb } from './types.js';

/**
 * The bootstrap policy a real cluster has for every caller: discovery and health for the authenticated,
 * service-account issuer discovery for ServiceAccounts (plugin/pkg/auth/authorizer/rbac/bootstrappolicy).
 */
export const BOOTSTRAP_RBAC: readonly KubeObject[] = [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'system:discovery' },
    rules: [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'system:discovery' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:discovery' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'system:service-account-issuer-discovery' },
    rules: [{ verbs: ['get'], nonResourceURLs: ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'system:service-account-issuer-discovery' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:service-account-issuer-discovery' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:serviceaccounts' }],
  },
];

/**
 * The name a request is authorized for: its path's, or for list and watch the one a
 * `fieldSelector=metadata.name=<name>` names (RequestInfoFactory does this, so that roles with
 * resourceNames can list and watch one object).
 */
function authorizedName(route: ResourceRoute, verb: Verb, params: URLSearchParams): string | undefined {
  if (route.name !== undefined) return route.name;
  if (verb !== 'list' && verb !== 'watch') return undefined;
  const selector = params.get('fieldSelector') ?? '';
  const terms = selector.split(',').map((t) => /^metadata\.name==?(.*)$/.exec(t.trim()));
  const names = terms.flatMap((m) => (m ? [m[1] as string] : []));
  return names.length === 1 ? names[0] : undefined;
}

/** The 403 kube-apiserver answers when its authorizer denies a request, or undefined when allowed. */
export function authorizeRequest(
  store: ObjectStore,
  user: UserInfo,
  request: { method: string; path: string; route: ResourceRoute | undefined; verb: Verb | undefined; params: URLSearchParams },
): ApiError | undefined {
  const groups = user.groups ?? [];
  const { route } = request;
  if (!route) {
    const verb = request.method.toLowerCase() === 'head' ? 'get' : request.method.toLowerCase();
    const spec: SubjectAccessReviewSpec = { user: user.username, groups, nonResourceAttributes: { path: request.path, verb } };
    if (rbacDecision(store, spec).allowed) return undefined;
    return errors.forbidden({ group: '', resource: '' }, '', `User "${user.username}" cannot ${verb} path "${request.path}"`);
  }
  const verb = request.verb ?? (request.method.toLowerCase() as Verb);
  const name = authorizedName(route, verb, request.params);
  const { group, resource } = route.kind.groupResource;
  const spec: SubjectAccessReviewSpec = {
    user: user.username,
    groups,
    resourceAttributes: {
      verb,
      group,
      version: route.kind.version,
      resource,
      ...(route.subresource ? { subresource: route.subresource } : {}),
      ...(route.namespace ? { namespace: route.namespace } : {}),
      ...(name !== undefined ? { name } : {}),
    },
  };
  if (rbacDecision(store, spec).allowed) return undefined;
  const what = route.subresource ? `${resource}/${route.subresource}` : resource;
  const scope = route.namespace ? `in the namespace "${route.namespace}"` : 'at the cluster scope';
  return errors.forbidden({ group, resource }, route.name ?? '', `User "${user.username}" cannot ${verb} resource "${what}" in API group "${group}" ${scope}`);
}
