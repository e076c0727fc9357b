/**
 * Authentication and authorization decisions: TokenReview status for programmable tokens
 * (ServiceAccount tokens are checked against their ServiceAccount), the RBAC authorizer over the
 * stored Role/ClusterRole(Binding)s, and ServiceAccount token minting.
 */
import { randomUUID } from 'node:crypto';
import type { ObjectStore } from './store.js';
import { storeKey } from './store.js';
import type { ServiceAccountIssuer, TokenClaims } from './issuer.js';
import { isPlainObject, type KubeObject } from './types.js';
import { str } from './validation.js';

export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** A bearer token the fake accepts in TokenReviews (and for requests, if authentication is on). */
export interface FakeToken extends UserInfo {
  /** Audiences the token is valid for; default the API server's audiences. */
  audiences?: string[];
  expiresAt?: Date;
  /** The token's `nbf`: not valid before. */
  notBefore?: Date;
  /** Set for ServiceAccount tokens: the review fails once the ServiceAccount is gone or replaced. */
  serviceAccount?: { namespace: string; name: string; uid: string };
}

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface SubjectAccessReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: { path?: string; verb?: string };
  user?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  uid?: string;
}

export interface AuthorizationDecision {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/** Programmable authorizer: a boolean, a full decision, or undefined to fall back to RBAC. */
export type Authorizer = (spec: SubjectAccessReviewSpec) => boolean | AuthorizationDecision | undefined;

export const DEFAULT_AUDIENCES = ['https://kubernetes.default.svc.cluster.local'];

/** Go's %q of a []string: ["a" "b"]. */
function goList(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}

function withAuthenticatedGroup(groups: readonly string[] | undefined): string[] {
  const all = [...(groups ?? [])];
  if (!all.includes('system:authenticated')) all.push('system:authenticated');
  return all;
}

/** TokenReview `status` for a token (recorded shapes: failures have `user: {}` and no `authenticated`). */
export function tokenReviewStatus(
  token: FakeToken | undefined,
  requestedAudiences: readonly string[] | undefined,
  apiAudiences: readonly string[],
  store: ObjectStore,
  now: Date,
): Record<string, unknown> {
  const failure = (reason?: string): Record<string, unknown> => ({
    user: {},
    error: reason ? `[invalid bearer token, ${reason}]` : 'invalid bearer token',
  });
  if (!token) return failure();
  const tokenAudiences = token.audiences ?? [...apiAudiences];
  const wanted = requestedAudiences && requestedAudiences.length > 0 ? requestedAudiences : apiAudiences;
  const audiences = wanted.filter((a) => tokenAudiences.includes(a));
  if (audiences.length === 0) return failure(`token audiences ${goList(tokenAudiences)} is invalid for the target audiences ${goList(wanted)}`);
  if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) return failure('service account token has expired');
  if (token.notBefore && token.notBefore.getTime() > now.getTime()) return failure('service account token is not valid yet');
  if (token.serviceAccount) {
    const { namespace, name, uid } = token.serviceAccount;
    const sa = store.get('serviceaccounts', storeKey(namespace, name));
    if (!sa) return failure(`serviceaccounts "${name}" not found`);
    if (sa.metadata.uid !== uid) return failure(`service account UID (${sa.metadata.uid}) does not match claim (${uid})`);
  }
  const user: Record<string, unknown> = { username: token.username };
  if (token.uid) user.uid = token.uid;
  user.groups = withAuthenticatedGroup(token.groups);
  if (token.extra && Object.keys(token.extra).length > 0) user.extra = token.extra;
  return { authenticated: true, user, audiences };
}

// ---- RBAC ----

interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

function ruleAllows(rule: PolicyRule, spec: SubjectAccessReviewSpec): boolean {
  const attrs = spec.resourceAttributes;
  const verb = attrs ? attrs.verb ?? '' : spec.nonResourceAttributes?.verb ?? '';
  const verbs = rule.verbs ?? [];
  if (!verbs.includes('*') && !verbs.includes(verb)) return false;
  if (!attrs) {
    const path = spec.nonResourceAttributes?.path ?? '';
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
  }
  const groups = rule.apiGroups ?? [];
  if (!groups.includes('*') && !groups.includes(attrs.group ?? '')) return false;
  const resource = attrs.subresource ? `${attrs.resource ?? ''}/${attrs.subresource}` : attrs.resource ?? '';
  const resources = rule.resources ?? [];
  const resourceOk = resources.some((r) => r === '*' || r === resource || (attrs.subresource !== undefined && attrs.subresource !== '' && r === `*/${attrs.subresource}`));
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(attrs.name ?? '');
}

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

function subjectMatches(subject: Subject, spec: SubjectAccessReviewSpec, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User': return subject.name === spec.user;
    case 'Group': return (spec.groups ?? []).includes(subject.name ?? '');
    case 'ServiceAccount': return spec.user === `system:serviceaccount:${subject.namespace || bindingNamespace}:${subject.name ?? ''}`;
    default: return false;
  }
}

function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === 'ServiceAccount') return `ServiceAccount ${JSON.stringify(`${subject.name ?? ''}/${subject.namespace || bindingNamespace}`)}`;
  return `${subject.kind ?? ''} ${JSON.stringify(subject.name ?? '')}`;
}

function rulesOf(role: KubeObject | undefined): PolicyRule[] {
  return role && Array.isArray(role.rules) ? (role.rules.filter(isPlainObject) as PolicyRule[]) : [];
}

/** The RBAC authorizer over stored ClusterRoleBindings, then RoleBindings of the namespace. */
export function rbacDecision(store: ObjectStore, spec: SubjectAccessReviewSpec): AuthorizationDecision {
  if ((spec.groups ?? []).includes('system:masters')) return { allowed: true };
  const roleTable = 'roles.rbac.authorization.k8s.io';
  const clusterRoleTable = 'clusterroles.rbac.authorization.k8s.io';
  for (const { object: binding } of store.list('clusterrolebindings.rbac.authorization.k8s.io')) {
    const roleName = str(binding, 'roleRef', 'name');
    const rules = rulesOf(store.get(clusterRoleTable, storeKey(undefined, roleName)));
    const subjects = (Array.isArray(binding.subjects) ? binding.subjects : []) as Subject[];
    for (const subject of subjects) {
      if (!subjectMatches(subject, spec, '') || !rules.some((r) => ruleAllows(r, spec))) continue;
      return {
        allowed: true,
        reason: `RBAC: allowed by ClusterRoleBinding ${JSON.stringify(binding.metadata.name)} of ClusterRole ${JSON.stringify(roleName)} to ${describeSubject(subject, '')}`,
      };
    }
  }
  const namespace = spec.resourceAttributes?.namespace;
  if (namespace) {
    for (const { object: binding } of store.list('rolebindings.rbac.authorization.k8s.io', namespace)) {
      const roleKind = str(binding, 'roleRef', 'kind');
      const roleName = str(binding, 'roleRef', 'name');
      const role = roleKind === 'ClusterRole'
        ? store.get(clusterRoleTable, storeKey(undefined, roleName))
        : store.get(roleTable, storeKey(namespace, roleName));
      const rules = rulesOf(role);
      const subjects = (Array.isArray(binding.subjects) ? binding.subjects : []) as Subject[];
      for (const subject of subjects) {
        if (!subjectMatches(subject, spec, namespace) || !rules.some((r) => ruleAllows(r, spec))) continue;
        return {
          allowed: true,
          reason: `RBAC: allowed by RoleBinding ${JSON.stringify(`${binding.metadata.name}/${namespace}`)} of ${roleKind} ${JSON.stringify(roleName)} to ${describeSubject(subject, namespace)}`,
        };
      }
    }
  }
  return { allowed: false };
}

/** A ServiceAccount token with the claims kube-apiserver puts in one, signed by `issuer`. */
export function mintServiceAccountToken(
  issuer: ServiceAccountIssuer,
  namespace: string,
  name: string,
  uid: string,
  audiences: readonly string[],
  issuedAt: Date,
  expirationSeconds: number,
): { token: string; jti: string; expiresAt: Date } {
  const jti = randomUUID();
  const iat = Math.floor(issuedAt.getTime() / 1000);
  const claims = {
    aud: audiences,
    exp: iat + expirationSeconds,
    iat,
    iss: issuer.issuer,
    jti,
    'kubernetes.io': { namespace, serviceaccount: { name, uid } },
    nbf: iat,
    sub: `system:serviceaccount:${namespace}:${name}`,
  };
  return { token: issuer.sign(claims), jti, expiresAt: new Date((iat + expirationSeconds) * 1000) };
}

/**
 * What the TokenReview knows of a token the issuer signed but nobody registered (a test signed
 * it with claims of its own): the ServiceAccount user of its `kubernetes.io` claims.
 */
export function tokenFromClaims(claims: TokenClaims): FakeToken | undefined {
  const k8s = isPlainObject(claims['kubernetes.io']) ? claims['kubernetes.io'] : undefined;
  const sa = k8s && isPlainObject(k8s.serviceaccount) ? k8s.serviceaccount : undefined;
  const namespace = typeof k8s?.namespace === 'string' ? k8s.namespace : undefined;
  const name = typeof sa?.name === 'string' ? sa.name : undefined;
  const uid = typeof sa?.uid === 'string' ? sa.uid : undefined;
  if (!namespace || !name || !uid || claims.sub !== `system:serviceaccount:${namespace}:${name}`) return undefined;
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : [];
  const token: FakeToken = {
    ...serviceAccountUser(namespace, name, uid, typeof claims.jti === 'string' ? claims.jti : ''),
    audiences,
    serviceAccount: { namespace, name, uid },
  };
  if (typeof claims.exp === 'number') token.expiresAt = new Date(claims.exp * 1000);
  if (typeof claims.nbf === 'number') token.notBefore = new Date(claims.nbf * 1000);
  return token;
}

export function serviceAccountUser(namespace: string, name: string, uid: string, jti: string): UserInfo {
  return {
    username: `system:serviceaccount:${namespace}:${name}`,
    uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${jti}`] },
  };
}
