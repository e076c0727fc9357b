/** Core v1 kinds: Secret, ConfigMap, ServiceAccount, Namespace. */
import type { ResourceKindDefinition } from '../kinds.js';
import { errors, fieldErrors, type FieldError } from '../status.js';
import { isPlainObject, jsonEqual, metaOf, type KubeObject } from '../types.js';
import { base64Error, str } from '../validation.js';

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const MAX_SECRET_SIZE = 1024 * 1024;
const IMMUTABLE = 'field is immutable when `immutable` is set';

function configKeyErrors(field: string, key: string): FieldError[] {
  const path = `${field}[${key}]`;
  if (key.length > 253) return [fieldErrors.invalid(path, key, 'must be no more than 253 characters')];
  if (!CONFIG_KEY.test(key)) return [fieldErrors.invalid(path, key, CONFIG_KEY_MESSAGE)];
  if (key === '.' || key === '..') return [fieldErrors.invalid(path, key, `must not be '${key}'`)];
  return [];
}

function dataOf(obj: KubeObject): Record<string, string> {
  return isPlainObject(obj.data) ? (obj.data as Record<string, string>) : {};
}

function decodedText(value: string | undefined): string {
  return Buffer.from(value ?? '', 'base64').toString('utf8');
}

function jsonError(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch {
    // Go's encoding/json wording for the two common cases.
    return text.trim() === '' ? 'unexpected end of JSON input' : 'invalid character looking for beginning of value';
  }
}

/** ValidateSecret's per-type rules (k8s.io/kubernetes/pkg/apis/core/validation). */
function secretTypeErrors(secret: KubeObject): FieldError[] {
  const data = dataOf(secret);
  const has = (key: string): boolean => Object.hasOwn(data, key);
  const required = (key: string): FieldError => fieldErrors.required(`data[${key}]`);
  const errs: FieldError[] = [];
  switch (str(secret, 'type')) {
    case 'kubernetes.io/service-account-token':
      if (!metaOf(secret).annotations?.['kubernetes.io/service-account.name']) {
        errs.push(fieldErrors.required('metadata.annotations[kubernetes.io/service-account.name]'));
      }
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const key = str(secret, 'type') === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      if (!has(key)) errs.push(required(key));
      else {
        const problem = jsonError(decodedText(data[key]));
        if (problem) errs.push(fieldErrors.invalid(`data[${key}]`, '<secret contents redacted>', problem));
      }
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) errs.push(required('username'), required('password'));
      break;
    case 'kubernetes.io/ssh-auth':
      if (!has('ssh-privatekey')) errs.push(required('ssh-privatekey'));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.key')) errs.push(required('tls.key'));
      if (!has('tls.crt')) errs.push(required('tls.crt'));
      break;
  }
  return errs;
}

export const secrets: ResourceKindDefinition = {
  group: '',
  version: 'v1',
  plural: 'secrets',
  kind: 'Secret',
  namespaced: true,
  shape: {
    order: ['immutable', 'data', 'stringData', 'type'],
    omitEmpty: ['data', 'stringData', 'type'],
    fields: { data: { sortKeys: true }, stringData: { sortKeys: true } },
  },
  fieldLabels: (obj) => ({ type: str(obj, 'type') }),
  decode(obj) {
    for (const value of Object.values(isPlainObject(obj.data) ? obj.data : {})) {
      if (typeof value !== 'string') throw errors.undecodable('Secret', 'v1', `json: cannot unmarshal ${typeof value} into Go struct field Secret.data of type []uint8`);
      const problem = base64Error(value);
      if (problem) throw errors.undecodable('Secret', 'v1', problem);
    }
  },
  defaults(obj) {
    // stringData is write-only: the server folds it into base64 data (recorded).
    if (isPlainObject(obj.stringData)) {
      const data: Record<string, unknown> = isPlainObject(obj.data) ? obj.data : {};
      for (const [key, value] of Object.entries(obj.stringData)) data[key] = Buffer.from(String(value), 'utf8').toString('base64');
      obj.data = data;
    }
    delete obj.stringData;
    if (!obj.type) obj.type = 'Opaque';
  },
  validate(obj, { old }) {
    const errs: FieldError[] = [];
    if (old) {
      if (str(old, 'type') !== str(obj, 'type')) errs.push(fieldErrors.invalid('type', str(obj, 'type'), 'field is immutable'));
      if (old.immutable === true) {
        if (obj.immutable !== true) errs.push(fieldErrors.forbidden('immutable', IMMUTABLE));
        if (!jsonEqual(dataOf(old), dataOf(obj))) errs.push(fieldErrors.forbidden('data', IMMUTABLE));
      }
    }
    let size = 0;
    for (const [key, value] of Object.entries(dataOf(obj))) {
      errs.push(...configKeyErrors('data', key));
      size += Buffer.from(value, 'base64').length;
    }
    if (size > MAX_SECRET_SIZE) errs.push(fieldErrors.tooLong('data', `may not be more than ${MAX_SECRET_SIZE} bytes`));
    errs.push(...secretTypeErrors(obj));
    return errs;
  },
};

export const configMaps: ResourceKindDefinition = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
  namespaced: true,
  shape: { order: ['immutable', 'data', 'binaryData'], omitEmpty: ['data', 'binaryData'], fields: { data: { sortKeys: true }, binaryData: { sortKeys: true } } },
  validate(obj, { old }) {
    const errs: FieldError[] = [];
    if (old?.immutable === true && (!jsonEqual(old.data, obj.data) || !jsonEqual(old.binaryData, obj.binaryData))) {
      errs.push(fieldErrors.forbidden('data', IMMUTABLE));
    }
    for (const key of Object.keys(isPlainObject(obj.data) ? obj.data : {})) errs.push(...configKeyErrors('data', key));
    for (const key of Object.keys(isPlainObject(obj.binaryData) ? obj.binaryData : {})) {
      errs.push(...configKeyErrors('binaryData', key));
      if (isPlainObject(obj.data) && Object.hasOwn(obj.data, key)) errs.push(fieldErrors.invalid('data', key, 'duplicate of key present in binaryData'));
    }
    return errs;
  },
};

export const serviceAccounts: ResourceKindDefinition = {
  group: '',
  version: 'v1',
  plural: 'serviceaccounts',
  kind: 'ServiceAccount',
  namespaced: true,
  shape: { order: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'], omitEmpty: ['secrets', 'imagePullSecrets'] },
};

function namespaceSpec(obj: KubeObject): Record<string, unknown> {
  if (!isPlainObject(obj.spec)) obj.spec = {};
  return obj.spec as Record<string, unknown>;
}

export const namespaces: ResourceKindDefinition = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
  nameRule: 'label',
  statusSubresource: true,
  returnDeletedObject: true,
  shape: {
    order: ['spec', 'status'],
    fields: { spec: { omitEmpty: ['finalizers'] }, status: { order: ['phase', 'conditions'], omitEmpty: ['phase', 'conditions'] } },
  },
  zeroValues: { spec: {}, status: {} },
  fieldLabels: (obj) => ({ 'status.phase': str(obj, 'status', 'phase') }),
  defaults(obj) {
    // SetDefaults_Namespace: the name label is always (re)set, so it is also the client's field.
    const meta = metaOf(obj);
    meta.labels = { ...meta.labels, 'kubernetes.io/metadata.name': meta.name ?? '' };
  },
  prepareCreate(obj) {
    const spec = namespaceSpec(obj);
    const finalizers = Array.isArray(spec.finalizers) ? (spec.finalizers as unknown[]) : [];
    if (!finalizers.includes('kubernetes')) spec.finalizers = [...finalizers, 'kubernetes'];
    obj.status = { phase: 'Active' };
  },
  prepareUpdate(obj, old) {
    // spec.finalizers changes only through /finalize, status only through /status.
    const spec = namespaceSpec(obj);
    const oldFinalizers = isPlainObject(old.spec) ? old.spec.finalizers : undefined;
    if (oldFinalizers === undefined) delete spec.finalizers;
    else spec.finalizers = oldFinalizers;
  },
  validate(obj) {
    const finalizers = isPlainObject(obj.spec) && Array.isArray(obj.spec.finalizers) ? obj.spec.finalizers : [];
    return finalizers.flatMap((f, i): FieldError[] =>
      typeof f === 'string' && /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(f)
        ? []
        : [fieldErrors.invalid(`spec.finalizers[${i}]`, f, 'name is neither a standard finalizer name nor is it fully qualified')],
    );
  },
  hasPendingFinalizers(obj) {
    return isPlainObject(obj.spec) && Array.isArray(obj.spec.finalizers) && obj.spec.finalizers.length > 0;
  },
};
