/**
 * Review-style endpoints the server answers itself, 201 and nothing stored (recorded shapes):
 * TokenReview, (Local|Self)SubjectAccessReview (echo of the spec + status, metadata holding only
 * managedFields), and the ServiceAccount `token` subresource (TokenRequest).
 */
import {
  type AuthorizationDecision, type FakeToken, mintServiceAccountToken, serviceAccountUser, type SubjectAccessReviewSpec,
  tokenReviewStatus, type UserInfo,
} from './auth.js';
import type { ServiceAccountIssuer } from './issuer.js';
import type { ResourceKind } from './kinds.js';
import { updateManagedFields } from './managed-fields.js';
import type { RestResult } from './rest.js';
import { applyShape, type Shape } from './shape.js';
import { errors, fieldErrors, type FieldError } from './status.js';
import { type ObjectStore, storeKey } from './store.js';
import { formatTime, isPlainObject } from './types.js';

export interface ReviewContext {
  readonly store: ObjectStore;
  readonly now: Date;
  /** The API server's audiences (default TokenReview / TokenRequest audiences). */
  readonly audiences: readonly string[];
  /** Field manager of the request. */
  readonly manager: string;
  lookupToken(token: string): FakeToken | undefined;
  registerToken(token: string, info: FakeToken): void;
  decide(spec: SubjectAccessReviewSpec): boolean | AuthorizationDecision;
  /** Signs the ServiceAccount tokens TokenRequest mints. */
  readonly issuer: ServiceAccountIssuer;
}

const SAR_SPEC_SHAPE: Shape = {
  order: ['resourceAttributes', 'nonResourceAttributes', 'user', 'groups', 'extra', 'uid'],
  omitEmpty: ['resourceAttributes', 'nonResourceAttributes', 'user', 'groups', 'extra', 'uid'],
  fields: {
    resourceAttributes: {
      order: ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name', 'fieldSelector', 'labelSelector'],
      omitEmpty: ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name', 'fieldSelector', 'labelSelector'],
    },
    nonResourceAttributes: { order: ['path', 'verb'], omitEmpty: ['path', 'verb'] },
    extra: { sortKeys: true },
  },
};

function specOf(body: unknown): Record<string, unknown> {
  return isPlainObject(body) && isPlainObject(body.spec) ? body.spec : {};
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function validateAccessReview(spec: SubjectAccessReviewSpec, needsUser: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (Boolean(spec.resourceAttributes) === Boolean(spec.nonResourceAttributes)) {
    errs.push(fieldErrors.invalid('spec.resourceAttributes', spec.resourceAttributes ?? null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  }
  if (needsUser && !spec.user && (spec.groups ?? []).length === 0) {
    errs.push(fieldErrors.invalid('spec.user', spec.user ?? '', 'at least one of user or group must be specified'));
  }
  return errs;
}

function decisionStatus(decision: boolean | AuthorizationDecision): Record<string, unknown> {
  const d = typeof decision === 'boolean' ? { allowed: decision } : decision;
  const status: Record<string, unknown> = { allowed: d.allowed };
  if (d.denied) status.denied = true;
  if (d.reason) status.reason = d.reason;
  if (d.evaluationError) status.evaluationError = d.evaluationError;
  return status;
}

/** POST of a review kind: 201 with the spec echoed and the computed status. */
export function answerReview(kind: ResourceKind, namespace: string | undefined, body: unknown, user: UserInfo | undefined, ctx: ReviewContext): RestResult {
  const raw = specOf(body);
  const invalid = (errs: FieldError[]): never => {
    throw errors.invalid({ group: kind.group, kind: kind.kind }, '', errs);
  };
  let spec: Record<string, unknown>;
  let status: Record<string, unknown>;
  switch (kind.plural) {
    case 'tokenreviews': {
      const token = typeof raw.token === 'string' ? raw.token : '';
      const audiences = strings(raw.audiences);
      spec = { token, ...(audiences.length > 0 ? { audiences } : {}) };
      const known = ctx.lookupToken(token);
      // Recorded (tokenreview-bad-signature.json): a token naming a key of ours with a wrong signature.
      status = !known && ctx.issuer.hasBadSignature(token)
        ? { user: {}, error: '[invalid bearer token, go-jose/go-jose: error in cryptographic primitive]' }
        : tokenReviewStatus(known, audiences, ctx.audiences, ctx.store, ctx.now);
      break;
    }
    case 'subjectaccessreviews':
    case 'localsubjectaccessreviews': {
      const sar = raw as SubjectAccessReviewSpec;
      const errs = validateAccessReview(sar, true);
      if (namespace && sar.resourceAttributes?.namespace !== namespace) {
        errs.push(fieldErrors.invalid('spec.resourceAttributes.namespace', sar.resourceAttributes?.namespace ?? '', 'must match metadata.namespace'));
      }
      if (errs.length > 0) invalid(errs);
      spec = applyShape(sar, SAR_SPEC_SHAPE) as Record<string, unknown>;
      status = decisionStatus(ctx.decide(sar));
      break;
    }
    case 'selfsubjectaccessreviews': {
      const sar = raw as SubjectAccessReviewSpec;
      const errs = validateAccessReview(sar, false);
      if (errs.length > 0) invalid(errs);
      spec = applyShape({ resourceAttributes: sar.resourceAttributes, nonResourceAttributes: sar.nonResourceAttributes }, SAR_SPEC_SHAPE) as Record<string, unknown>;
      const who = user ?? { username: 'system:anonymous', groups: ['system:unauthenticated'] };
      status = decisionStatus(ctx.decide({ ...sar, user: who.username, groups: who.groups, uid: who.uid, extra: who.extra }));
      break;
    }
    default:
      throw errors.methodNotAllowed();
  }
  const managedFields = updateManagedFields(undefined, undefined, { spec }, { manager: ctx.manager, operation: 'Update', apiVersion: kind.apiVersion, time: formatTime(ctx.now) }, undefined);
  const metadata: Record<string, unknown> = namespace ? { namespace } : {};
  if (managedFields) metadata.managedFields = managedFields;
  return { code: 201, body: { kind: kind.kind, apiVersion: kind.apiVersion, metadata, spec, status } };
}

/** POST serviceaccounts/<name>/token: mints a ServiceAccount token and registers it for TokenReviews. */
export function answerTokenRequest(namespace: string, name: string, body: unknown, ctx: ReviewContext): RestResult {
  const sa = ctx.store.get('serviceaccounts', storeKey(namespace, name));
  if (!sa) throw errors.notFound({ group: '', resource: 'serviceaccounts' }, name);
  const raw = specOf(body);
  const requested = strings(raw.audiences);
  const audiences = requested.length > 0 ? requested : [...ctx.audiences];
  const expirationSeconds = typeof raw.expirationSeconds === 'number' ? raw.expirationSeconds : 3600;
  if (expirationSeconds < 600) {
    throw errors.invalid({ group: 'authentication.k8s.io', kind: 'TokenRequest' }, '', [
      fieldErrors.invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes'),
    ]);
  }
  const uid = sa.metadata.uid;
  const minted = mintServiceAccountToken(ctx.issuer, namespace, name, uid, audiences, ctx.now, expirationSeconds);
  ctx.registerToken(minted.token, {
    ...serviceAccountUser(namespace, name, uid, minted.jti),
    audiences,
    expiresAt: minted.expiresAt,
    serviceAccount: { namespace, name, uid },
  });
  const requestSpec: Record<string, unknown> = {};
  if (requested.length > 0) requestSpec.audiences = requested;
  if (typeof raw.expirationSeconds === 'number') requestSpec.expirationSeconds = raw.expirationSeconds;
  const managedFields = updateManagedFields(undefined, undefined, { spec: requestSpec }, {
    manager: ctx.manager, operation: 'Update', apiVersion: 'authentication.k8s.io/v1', time: formatTime(ctx.now), subresource: 'token',
  }, undefined);
  return {
    code: 201,
    body: {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace, uid, creationTimestamp: formatTime(ctx.now), ...(managedFields ? { managedFields } : {}) },
      spec: { audiences, expirationSeconds, boundObjectRef: isPlainObject(raw.boundObjectRef) ? raw.boundObjectRef : null },
      status: { token: minted.token, expirationTimestamp: formatTime(minted.expiresAt) },
    },
  };
}
