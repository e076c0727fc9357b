/**
 * Test helpers for the registry domain. Everything here is built with Node's Buffer and
 * fast-json-patch, independently of the code under test.
 */
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { AdmissionRequest, JsonPatchOperation } from '../../src/admission/types.js';

export const LABEL = 'serverless.kyma-project.io/remote-registry';
export const SECRET_KIND = { group: '', version: 'v1', kind: 'Secret' };

export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function unb64(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}

/** A labelled registry-config Secret whose `data` holds the base64 of each given plain value. */
export function registrySecret(
  plain: Record<string, string>,
  extra: { type?: string; name?: string; labels?: Record<string, string>; rawData?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(plain)) data[key] = b64(value);
  Object.assign(data, extra.rawData);
  return {
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: {
      name: extra.name ?? 'serverless-registry-config',
      namespace: 'default',
      labels: extra.labels ?? { [LABEL]: 'config' },
    },
    data,
    type: extra.type ?? 'kubernetes.io/dockerconfigjson',
  };
}

export const GOOD_PLAIN = {
  username: 'admin',
  password: 's3cr3t-pass',
  serverAddress: 'registry.example.com:5000',
  registryAddress: 'registry.example.com:5000/kyma',
};

/** The `.dockerconfigjson` the README says the API server stored for GOOD_PLAIN. */
export const README_DOCKER_CONFIG_JSON =
  '{"auths":{"registry.example.com:5000":{"username":"admin","password":"s3cr3t-pass","auth":"YWRtaW46czNjcjN0LXBhc3M="}}}';

export function secretRequest(
  operation: string,
  object: unknown,
  oldObject: unknown = null,
  overrides: Partial<AdmissionRequest> = {},
): AdmissionRequest {
  return {
    uid: '00000000-0000-0000-0000-000000000001',
    kind: SECRET_KIND,
    resource: { group: '', version: 'v1', resource: 'secrets' },
    name: 'serverless-registry-config',
    namespace: 'default',
    operation,
    object,
    oldObject,
    dryRun: false,
    ...overrides,
  };
}

/** Applies `patch` to a copy of `document` the way the API server does: RFC 6902, validated. */
export function applyPatch<T>(document: T, patch: JsonPatchOperation[]): T {
  return jsonpatch.applyPatch(structuredClone(document), patch as Operation[], true, false).newDocument;
}

/** The decoded text of `data[".dockerconfigjson"]`. */
export function storedDockerConfigText(secret: unknown): string {
  const data = (secret as { data?: Record<string, unknown> }).data;
  const value = data?.['.dockerconfigjson'];
  if (typeof value !== 'string') throw new Error('no .dockerconfigjson string in data');
  return unb64(value);
}
