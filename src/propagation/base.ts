/**
 * Which Secret is the base (the cluster-wide registry Secret copies are made from) and what the
 * controller may do about its finalizer. Pure.
 */
import {
  describeProblems,
  isClusterRegistryConfigSecret,
  nameOf,
  namespaceOf,
  readRegistryCredentials,
} from '../registry/index.js';
import { desiredCopy, type DesiredCopy } from './desired-copy.js';
import { isOurManagedSecret } from './guards.js';
import { COPY_NAME, PROPAGATION_FINALIZER } from './names.js';
import type { SecretObject } from './types.js';

export type BaseState =
  /** Propagate `desired` everywhere. */
  | { kind: 'present'; secret: SecretObject; desired: DesiredCopy }
  /**
   * Remove every copy: no base, a base being deleted, or one whose labels no longer make it the
   * cluster-wide Secret (`secret` is set for the last two: its finalizer is ours to remove).
   */
  | { kind: 'absent'; why: 'missing' | 'deleting' | 'unlabelled'; secret?: SecretObject }
  /**
   * A Secret in the base's place that must not be propagated, yet is no reason to delete the copies
   * everyone builds with: it carries our copy label (never treat a copy as a base) or credentials
   * the webhook would reject. Nothing is written until it is fixed.
   */
  | { kind: 'held'; why: 'labelled-as-copy' | 'invalid-credentials'; secret: SecretObject; detail: string };

/**
 * The state of the base given the Secret named `serverless-registry-config` in the system
 * namespace (undefined when there is none). Anything not exactly in the system namespace under
 * the base's name is never a base.
 */
export function resolveBase(candidate: SecretObject | undefined, systemNamespace: string): BaseState {
  if (candidate === undefined || namespaceOf(candidate) !== systemNamespace || nameOf(candidate) !== COPY_NAME) {
    return { kind: 'absent', why: 'missing' };
  }
  if (isDeleting(candidate)) return { kind: 'absent', why: 'deleting', secret: candidate };
  if (isOurManagedSecret(candidate)) {
    return {
      kind: 'held',
      why: 'labelled-as-copy',
      secret: candidate,
      detail: 'it carries the label of a propagated copy (app.kubernetes.io/managed-by=registry-config-webhook)',
    };
  }
  if (!isClusterRegistryConfigSecret(candidate, systemNamespace)) {
    return { kind: 'absent', why: 'unlabelled', secret: candidate };
  }
  const read = readRegistryCredentials(candidate);
  if (!read.ok) {
    return {
      kind: 'held',
      why: 'invalid-credentials',
      secret: candidate,
      detail: describeProblems({ namespace: systemNamespace, name: COPY_NAME }, read.problems),
    };
  }
  return { kind: 'present', secret: candidate, desired: desiredCopy(candidate, read.credentials) };
}

export type FinalizerAction = 'add' | 'remove' | 'none';

/**
 * `add` once the base is propagated (its deletion must then wait for the copies), `remove` once a
 * deleted or unlabelled base has no copies left, otherwise nothing. A held base keeps whatever it has.
 */
export function finalizerAction(state: BaseState, copiesLeft: number): FinalizerAction {
  if (state.kind === 'present') return hasFinalizer(state.secret) ? 'none' : 'add';
  if (state.kind === 'absent' && state.secret !== undefined && hasFinalizer(state.secret) && copiesLeft === 0) {
    return 'remove';
  }
  return 'none';
}

export function hasFinalizer(secret: SecretObject): boolean {
  const finalizers = secret.metadata?.finalizers;
  return Array.isArray(finalizers) && finalizers.includes(PROPAGATION_FINALIZER);
}

/** The finalizer list after adding or removing ours, others kept in order. */
export function finalizersAfter(secret: SecretObject, action: 'add' | 'remove'): string[] {
  const current = Array.isArray(secret.metadata?.finalizers) ? secret.metadata.finalizers.filter((f) => typeof f === 'string') : [];
  const others = current.filter((f) => f !== PROPAGATION_FINALIZER);
  return action === 'add' ? [...others, PROPAGATION_FINALIZER] : others;
}

export function isDeleting(obj: { metadata?: { deletionTimestamp?: unknown } }): boolean {
  const ts = obj.metadata?.deletionTimestamp;
  return ts !== undefined && ts !== null && ts !== '';
}
