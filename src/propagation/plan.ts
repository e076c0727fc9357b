/**
 * The decision for one namespace: given the base, the namespace and the Secret named
 * `serverless-registry-config` in it, what to write. Pure; the controller executes the plan.
 */
import { isUserManagedSecret, labelsOf, nameOf, namespaceOf } from '../registry/index.js';
import { isDeleting, type BaseState } from './base.js';
import { copyForUpdate, copyManifest, copyMatches, needsReplacement, sourceRefFor } from './desired-copy.js';
import { isOurCopy, isOurManagedSecret } from './guards.js';
import type { LabelSelector } from './label-selector.js';
import { COPY_NAME } from './names.js';
import type { NamespaceObject, SecretObject } from './types.js';

export type SkipReason =
  /** The namespace's own Secret, labelled `serverless.kyma-project.io/managed-by: user`: never touched. */
  | 'user-managed'
  /** The copy already has the desired content. */
  | 'up-to-date'
  /** The namespace matches PROPAGATION_EXCLUDE (and holds no copy of ours to remove). */
  | 'excluded'
  /** The namespace is being deleted: creating in it is forbidden, its content goes with it. */
  | 'terminating'
  /** The base's own namespace. */
  | 'system-namespace'
  /** Another installation's copy (our label, another source), or not a Secret we may manage. */
  | 'not-ours'
  /** No base and no copy of ours here. */
  | 'no-base'
  /** The base must not be propagated right now (see BaseState `held`). */
  | 'base-held'
  /** The namespace is not (or no longer) known. */
  | 'namespace-missing'
  /** Our copy is being deleted by someone; it is recreated once gone. */
  | 'copy-terminating';

export type Plan =
  | { action: 'create'; namespace: string; body: SecretObject }
  /** `takeover`: a same-named Secret without the opt-out that we did not create. */
  | { action: 'update'; namespace: string; body: SecretObject; takeover: boolean }
  /** Delete `existing` (by uid), then create `body`: for a type change or an immutable Secret. */
  | { action: 'replace'; namespace: string; existing: SecretObject; body: SecretObject; takeover: boolean }
  | { action: 'delete'; namespace: string; existing: SecretObject; why: 'base-gone' | 'excluded' }
  | { action: 'skip'; namespace: string; reason: SkipReason };

export interface PlanInput {
  systemNamespace: string;
  base: BaseState;
  namespace: string;
  /** The Namespace object, undefined when unknown. */
  namespaceObject: NamespaceObject | undefined;
  exclude: LabelSelector;
  /** The Secret named `serverless-registry-config` in the namespace, if any. */
  existing: SecretObject | undefined;
}

export function planNamespace(input: PlanInput): Plan {
  const { systemNamespace, base, namespace, namespaceObject, existing } = input;
  const skip = (reason: SkipReason): Plan => ({ action: 'skip', namespace, reason });

  if (namespace === systemNamespace) return skip('system-namespace');
  if (existing !== undefined && (nameOf(existing) !== COPY_NAME || namespaceOf(existing) !== namespace)) {
    return skip('not-ours');
  }
  // The opt-out wins over everything, even over our own label.
  if (existing !== undefined && isUserManagedSecret(existing)) return skip('user-managed');

  const sourceRef = sourceRefFor(systemNamespace);
  const ours = existing !== undefined && isOurCopy(existing, sourceRef);
  if (existing !== undefined && !ours && isOurManagedSecret(existing)) return skip('not-ours');

  if (base.kind === 'absent') {
    return ours ? { action: 'delete', namespace, existing, why: 'base-gone' } : skip('no-base');
  }
  if (base.kind === 'held') return skip('base-held');

  if (namespaceObject === undefined) return skip('namespace-missing');
  if (isExcluded(namespace, namespaceObject, input.exclude)) {
    return ours ? { action: 'delete', namespace, existing, why: 'excluded' } : skip('excluded');
  }
  if (isTerminating(namespaceObject)) return skip('terminating');

  const { desired } = base;
  if (existing === undefined) return { action: 'create', namespace, body: copyManifest(desired, namespace) };
  if (isDeleting(existing)) return skip('copy-terminating');
  if (ours && copyMatches(existing, desired)) return skip('up-to-date');
  const takeover = !ours;
  if (needsReplacement(existing, desired)) {
    return { action: 'replace', namespace, existing, body: copyManifest(desired, namespace), takeover };
  }
  return { action: 'update', namespace, body: copyForUpdate(desired, existing), takeover };
}

/**
 * Matches PROPAGATION_EXCLUDE. `kubernetes.io/metadata.name` is set by the API server on every
 * namespace (and immutable); it is assumed here too, so the default selector holds even for a
 * namespace object that lacks it.
 */
export function isExcluded(namespace: string, namespaceObject: NamespaceObject, exclude: LabelSelector): boolean {
  return exclude.matches({ ...labelsOf(namespaceObject), 'kubernetes.io/metadata.name': namespace });
}

export function isTerminating(namespaceObject: NamespaceObject): boolean {
  return namespaceObject.status?.phase === 'Terminating' || isDeleting(namespaceObject);
}
