/** The pure registry domain: credentials, `.dockerconfigjson`, warnings and the webhook decision. */
export * from './labels.js';
export { decodeBase64Strict, decodeBase64Utf8, encodeBase64Utf8, type Base64Utf8Result } from './base64.js';
export { escapeJsonPointerToken, jsonPointer } from './json-pointer.js';
export {
  hasLabel,
  isClusterRegistryConfigSecret,
  isRegistryConfigSecret,
  isUserManagedSecret,
  labelsOf,
  labelValue,
  nameOf,
  namespaceOf,
} from './secret-labels.js';
export {
  describeProblems,
  formatSecretRef,
  GENERATED_NAME_PLACEHOLDER,
  readRegistryCredentials,
  type CredentialsResult,
  type KeyProblem,
  type KeyProblemKind,
  type RegistryCredentials,
  type SecretRef,
} from './credentials.js';
export {
  dockerConfig,
  dockerConfigJson,
  encodedDockerConfigJson,
  parseEncodedDockerConfigJson,
  type DockerConfig,
  type DockerConfigAuth,
} from './dockerconfig.js';
export { dockerConfigJsonPatch } from './dockerconfig-patch.js';
export { MAX_WARNING_LENGTH, registryWarnings, type RegistryWarningInput } from './warnings.js';
export { isCoreV1SecretKind, mutateRegistrySecret } from './mutation.js';
