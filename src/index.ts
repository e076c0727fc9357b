/**
 * The package entry for controller authors: the typed resolver client, and the pure registry
 * domain for those who want the webhook's own decisions (validation, `.dockerconfigjson`).
 */
export {
  createRegistryConfigClient,
  RegistryConfigError,
  type RegistryConfigClient,
  type RegistryConfigClientOptions,
  type RegistryConfigWatch,
  type WatchOptions,
} from './resolver/client.js';
export type { CredentialState, CredentialStatus, RegistryConfig, RegistryConfigEvent, RegistryConfigNotFound, RegistrySource } from './resolver/api.js';
export {
  dockerConfigJson,
  mutateRegistrySecret,
  readRegistryCredentials,
  describeProblems,
  type RegistryCredentials,
} from './registry/index.js';
