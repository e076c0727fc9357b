/** rbac.authorization.k8s.io/v1: stored like any kind; the default SubjectAccessReview authorizer evaluates them. */
import type { ResourceKindDefinition } from '../kinds.js';
import type { Shape } from '../shape.js';
import { fieldErrors, type FieldError } from '../status.js';
import { isPlainObject, jsonEqual, type KubeObject } from '../types.js';
import { str } from '../validation.js';

const RULES: Shape = {
  items: {
    order: ['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'],
    omitEmpty: ['apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'],
  },
};

const BINDING: Shape = {
  order: ['subjects', 'roleRef'],
  omitEmpty: ['subjects'],
  fields: {
    subjects: { items: { order: ['kind', 'apiGroup', 'name', 'namespace'], omitEmpty: ['apiGroup', 'namespace'] } },
    roleRef: { order: ['apiGroup', 'kind', 'name'], atomic: true },
  },
};

function validateRules(obj: KubeObject): FieldError[] {
  const rules = Array.isArray(obj.rules) ? obj.rules : [];
  return rules.flatMap((rule, i): FieldError[] => {
    const verbs = isPlainObject(rule) && Array.isArray(rule.verbs) ? rule.verbs : [];
    return verbs.length === 0 ? [fieldErrors.required(`rules[${i}].verbs`, 'verbs must contain at least one value')] : [];
  });
}

function validateBinding(obj: KubeObject, old: KubeObject | undefined, clusterScoped: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (old && !jsonEqual(old.roleRef, obj.roleRef)) errs.push(fieldErrors.invalid('roleRef', obj.roleRef, 'cannot change roleRef'));
  const allowed = clusterScoped ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  const roleKind = str(obj, 'roleRef', 'kind');
  if (!allowed.includes(roleKind)) errs.push(fieldErrors.notSupported('roleRef.kind', roleKind, allowed));
  if (!str(obj, 'roleRef', 'name')) errs.push(fieldErrors.required('roleRef.name'));
  const subjects = Array.isArray(obj.subjects) ? obj.subjects : [];
  subjects.forEach((subject, i) => {
    const kind = str(subject, 'kind');
    if (!['ServiceAccount', 'User', 'Group'].includes(kind)) errs.push(fieldErrors.notSupported(`subjects[${i}].kind`, kind, ['ServiceAccount', 'User', 'Group']));
    if (!str(subject, 'name')) errs.push(fieldErrors.required(`subjects[${i}].name`));
    if (kind === 'ServiceAccount' && clusterScoped && !str(subject, 'namespace')) errs.push(fieldErrors.required(`subjects[${i}].namespace`));
  });
  return errs;
}

const group = 'rbac.authorization.k8s.io';

export const roles: ResourceKindDefinition = {
  group, version: 'v1', plural: 'roles', kind: 'Role', namespaced: true,
  shape: { order: ['rules'], fields: { rules: RULES } },
  zeroValues: { rules: null },
  validate: validateRules,
};

export const clusterRoles: ResourceKindDefinition = {
  group, version: 'v1', plural: 'clusterroles', kind: 'ClusterRole', namespaced: false,
  shape: { order: ['rules', 'aggregationRule'], fields: { rules: RULES } },
  zeroValues: { rules: null },
  validate: validateRules,
};

export const roleBindings: ResourceKindDefinition = {
  group, version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true,
  shape: BINDING,
  validate: (obj, { old }) => validateBinding(obj, old, false),
};

export const clusterRoleBindings: ResourceKindDefinition = {
  group, version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false,
  shape: BINDING,
  validate: (obj, { old }) => validateBinding(obj, old, true),
};
