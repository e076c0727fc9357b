/** The kinds a fresh fake API server knows. Review kinds are create-only and never stored (see auth.ts). */
import type { ResourceKindDefinition } from '../kinds.js';
import { mutatingWebhookConfigurations, validatingWebhookConfigurations } from './admission.js';
import { leases } from './coordination.js';
import { configMaps, namespaces, secrets, serviceAccounts } from './core.js';
import { coreEvents, eventsV1Events } from './events.js';
import { clusterRoleBindings, clusterRoles, roleBindings, roles } from './rbac.js';

const review = (group: string, plural: string, kind: string, namespaced = false): ResourceKindDefinition => ({
  group, version: 'v1', plural, kind, namespaced, verbs: ['create'], review: true,
});

export const builtinKinds: readonly ResourceKindDefinition[] = [
  namespaces,
  secrets,
  configMaps,
  serviceAccounts,
  coreEvents,
  eventsV1Events,
  leases,
  mutatingWebhookConfigurations,
  validatingWebhookConfigurations,
  roles,
  roleBindings,
  clusterRoles,
  clusterRoleBindings,
  review('authentication.k8s.io', 'tokenreviews', 'TokenReview'),
  review('authorization.k8s.io', 'subjectaccessreviews', 'SubjectAccessReview'),
  review('authorization.k8s.io', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview'),
  review('authorization.k8s.io', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true),
];
