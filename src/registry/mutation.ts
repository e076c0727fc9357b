/**
 * The decision of the mutating webhook at POST /defaulting/registry-config-secrets: derive
 * `.dockerconfigjson` from the four required keys of every labelled registry-config Secret,
 * or deny the write when a required key is unusable.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AdmissionDecision, AdmissionHandler, AdmissionRequest } from '../admission/types.js';
import type { SecretObject } from '../kube/objects.js';
import { describeProblems, readRegistryCredentials, type RegistryCredentials } from './credentials.js';
import { dockerConfig, encodedDockerConfigJson, parseEncodedDockerConfigJson } from './dockerconfig.js';
import { dockerConfigJsonPatch } from './dockerconfig-patch.js';
import { isRecord, ownValue } from './guards.js';
import { DOCKER_CONFIG_JSON_KEY } from './labels.js';
import { isRegistryConfigSecret, nameOf, namespaceOf } from './secret-labels.js';
import { registryWarnings } from './warnings.js';

/** `request.kind` of a core/v1 Secret: `{group: "", version: "v1", kind: "Secret"}`. */
export function isCoreV1SecretKind(kind: unknown): boolean {
  return (
    isRecord(kind) &&
    ownValue(kind, 'group') === '' &&
    ownValue(kind, 'version') === 'v1' &&
    ownValue(kind, 'kind') === 'Secret'
  );
}

/** Pure and synchronous (an AdmissionHandler, typed as returning its decision directly for callers and tests). */
export function mutateRegistrySecret(request: AdmissionRequest): AdmissionDecision {
  // The admission layer validates the envelope, but the handler must not throw on anything.
  if (!isRecord(request) || !isCoreV1SecretKind(request.kind)) return { allowed: true };
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return { allowed: true };
  const secret = request.object;
  // Also an UPDATE that removes the label: the Secret stops being a registry config.
  if (!isRegistryConfigSecret(secret)) return { allowed: true };
  // A denial would block the finalizer removals a terminating Secret waits for.
  if (isTerminating(secret)) return { allowed: true };

  const read = readRegistryCredentials(secret);
  if (!read.ok) {
    // With only generateName, metadata.name can be empty at admission: fall back to the request's name.
    const secretRef = {
      namespace: namespaceOf(secret) ?? nonEmpty(request.namespace),
      name: nameOf(secret) ?? nonEmpty(request.name),
    };
    const message = describeProblems(secretRef, read.problems);
    return { allowed: false, status: { code: 400, reason: 'BadRequest', message } };
  }

  const { credentials } = read;
  const patch = dockerConfigJsonPatch(secret, encodedDockerConfigJson(credentials));
  // Nothing to change, nothing to say: copies are re-written every few minutes and would repeat
  // the same warnings forever; the user saw them when the value last changed.
  if (patch.length === 0) return { allowed: true };
  const warnings = registryWarnings({
    credentials,
    secretType: ownValue(secret, 'type'),
    replacesForeignDockerConfig: isForeignDockerConfig(secret, credentials, request),
  });
  return warnings.length > 0 ? { allowed: true, patch, warnings } : { allowed: true, patch };
}
mutateRegistrySecret satisfies AdmissionHandler;

function isTerminating(secret: SecretObject): boolean {
  const metadata = ownValue(secret, 'metadata');
  const deletionTimestamp = isRecord(metadata) ? ownValue(metadata, 'deletionTimestamp') : undefined;
  return deletionTimestamp !== undefined && deletionTimestamp !== null && deletionTimestamp !== '';
}

/**
 * Whether the `.dockerconfigjson` about to be replaced is someone else's: not the same content in
 * another formatting, and not what this webhook derived from the previous credentials (the usual
 * case after a password change, which deserves no warning).
 */
function isForeignDockerConfig(
  secret: SecretObject,
  credentials: RegistryCredentials,
  request: AdmissionRequest,
): boolean {
  const data = ownValue(secret, 'data');
  if (!isRecord(data) || !Object.hasOwn(data, DOCKER_CONFIG_JSON_KEY)) return false;
  const stored = data[DOCKER_CONFIG_JSON_KEY];
  if (isDeepStrictEqual(parseEncodedDockerConfigJson(stored), dockerConfig(credentials))) return false;
  const previous = readRegistryCredentials(request.oldObject);
  return !(previous.ok && stored === encodedDockerConfigJson(previous.credentials));
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
