/**
 * admissionregistration.k8s.io/v1 webhook configurations: the server defaults of recorded fact 9
 * (applied on every write, as defaulting runs on decode), generation, and the main validation rules.
 */
import type { ResourceKindDefinition } from '../kinds.js';
import type { Shape } from '../shape.js';
import { errors, fieldErrors, type FieldError } from '../status.js';
import { isPlainObject, type KubeObject } from '../types.js';
import { base64Error, dns1123Subdomain } from '../validation.js';

const SELECTOR: Shape = { order: ['matchLabels', 'matchExpressions'], omitEmpty: ['matchLabels', 'matchExpressions'], fields: { matchLabels: { sortKeys: true } } };

function webhookShape(mutating: boolean): Shape {
  return {
    order: [
      'name', 'clientConfig', 'rules', 'failurePolicy', 'matchPolicy', 'namespaceSelector', 'objectSelector', 'sideEffects',
      'timeoutSeconds', 'admissionReviewVersions', ...(mutating ? ['reinvocationPolicy'] : []), 'matchConditions',
    ],
    omitEmpty: ['rules', 'matchConditions'],
    fields: {
      clientConfig: {
        order: ['url', 'service', 'caBundle'],
        omitEmpty: ['url', 'service', 'caBundle'],
        fields: { service: { order: ['namespace', 'name', 'path', 'port'], omitEmpty: ['path'] } },
      },
      rules: { items: { order: ['operations', 'apiGroups', 'apiVersions', 'resources', 'scope'] } },
      namespaceSelector: SELECTOR,
      objectSelector: SELECTOR,
      matchConditions: { items: { order: ['name', 'expression'] } },
    },
  };
}

function webhooksOf(obj: KubeObject): Record<string, unknown>[] {
  return Array.isArray(obj.webhooks) ? obj.webhooks.filter(isPlainObject) : [];
}

function applyDefaults(obj: KubeObject, mutating: boolean): void {
  for (const hook of webhooksOf(obj)) {
    hook.failurePolicy ??= 'Fail';
    hook.matchPolicy ??= 'Equivalent';
    hook.namespaceSelector ??= {};
    hook.objectSelector ??= {};
    hook.timeoutSeconds ??= 10;
    if (mutating) hook.reinvocationPolicy ??= 'Never';
    if (Array.isArray(hook.rules)) for (const rule of hook.rules) if (isPlainObject(rule)) rule.scope ??= '*';
    const service = isPlainObject(hook.clientConfig) && isPlainObject(hook.clientConfig.service) ? hook.clientConfig.service : undefined;
    if (service) service.port ??= 443;
  }
}

function decodeCaBundles(obj: KubeObject, kind: string): void {
  for (const hook of webhooksOf(obj)) {
    const bundle = isPlainObject(hook.clientConfig) ? hook.clientConfig.caBundle : undefined;
    if (bundle === undefined) continue;
    const problem = typeof bundle === 'string' ? base64Error(bundle) : 'json: cannot unmarshal into []byte';
    if (problem) throw errors.undecodable(kind, 'v1', problem);
  }
}

function oneOf(field: string, value: unknown, allowed: readonly string[], requiredDetail?: string): FieldError[] {
  if (value === undefined || value === '') return requiredDetail === undefined ? [] : [fieldErrors.required(field, requiredDetail)];
  return typeof value === 'string' && allowed.includes(value) ? [] : [fieldErrors.notSupported(field, value, allowed)];
}

function validateWebhooks(obj: KubeObject, mutating: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  webhooksOf(obj).forEach((hook, i) => {
    const at = `webhooks[${i}]`;
    const name = typeof hook.name === 'string' ? hook.name : '';
    if (!name) errs.push(fieldErrors.required(`${at}.name`));
    else {
      for (const m of dns1123Subdomain(name.toLowerCase())) errs.push(fieldErrors.invalid(`${at}.name`, name, m));
      if (name.split('.').length < 3) errs.push(fieldErrors.invalid(`${at}.name`, name, 'should be a domain with at least three segments separated by dots'));
      if (seen.has(name)) errs.push(fieldErrors.duplicate(`${at}.name`, name));
      seen.add(name);
    }
    const config = isPlainObject(hook.clientConfig) ? hook.clientConfig : {};
    const hasUrl = typeof config.url === 'string' && config.url !== '';
    const hasService = isPlainObject(config.service);
    if (hasUrl === hasService) errs.push(fieldErrors.required(`${at}.clientConfig`, 'exactly one of url or service is required'));
    if (hasUrl && !String(config.url).startsWith('https://')) errs.push(fieldErrors.invalid(`${at}.clientConfig.url`, config.url, "'https' is the only allowed URL scheme"));
    errs.push(...oneOf(`${at}.sideEffects`, hook.sideEffects, ['None', 'NoneOnDryRun'], 'must specify one of None, NoneOnDryRun'));
    const versions = Array.isArray(hook.admissionReviewVersions) ? hook.admissionReviewVersions : [];
    if (versions.length === 0) errs.push(fieldErrors.required(`${at}.admissionReviewVersions`, 'must specify one of v1, v1beta1'));
    else if (!versions.some((v) => v === 'v1' || v === 'v1beta1')) {
      errs.push(fieldErrors.invalid(`${at}.admissionReviewVersions`, versions, 'must include at least one of v1, v1beta1'));
    }
    errs.push(...oneOf(`${at}.failurePolicy`, hook.failurePolicy, ['Fail', 'Ignore']));
    errs.push(...oneOf(`${at}.matchPolicy`, hook.matchPolicy, ['Equivalent', 'Exact']));
    if (mutating) errs.push(...oneOf(`${at}.reinvocationPolicy`, hook.reinvocationPolicy, ['IfNeeded', 'Never']));
    const timeout = hook.timeoutSeconds;
    if (typeof timeout === 'number' && (timeout < 1 || timeout > 30)) {
      errs.push(fieldErrors.invalid(`${at}.timeoutSeconds`, timeout, 'the timeout value must be between 1 and 30 seconds'));
    }
    const rules = Array.isArray(hook.rules) ? hook.rules : [];
    rules.forEach((rule, r) => {
      const ops = isPlainObject(rule) && Array.isArray(rule.operations) ? rule.operations : [];
      if (ops.length === 0) errs.push(fieldErrors.required(`${at}.rules[${r}].operations`));
      const resources = isPlainObject(rule) && Array.isArray(rule.resources) ? rule.resources : [];
      if (resources.length === 0) errs.push(fieldErrors.required(`${at}.rules[${r}].resources`));
      if (isPlainObject(rule)) errs.push(...oneOf(`${at}.rules[${r}].scope`, rule.scope, ['Cluster', 'Namespaced', '*']));
    });
  });
  return errs;
}

function webhookConfiguration(kind: string, plural: string, mutating: boolean): ResourceKindDefinition {
  return {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    plural,
    kind,
    namespaced: false,
    hasGeneration: true,
    shape: { order: ['webhooks'], omitEmpty: ['webhooks'], fields: { webhooks: { items: webhookShape(mutating) } } },
    decode: (obj) => decodeCaBundles(obj, kind),
    defaults: (obj) => applyDefaults(obj, mutating),
    validate: (obj) => validateWebhooks(obj, mutating),
  };
}

export const mutatingWebhookConfigurations = webhookConfiguration('MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', true);
export const validatingWebhookConfigurations = webhookConfiguration('ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', false);
