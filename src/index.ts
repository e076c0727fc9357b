/**
 * The package's main entry: the typed resolver client (also alone, as `registry-config-webhook/client`)
 * and the pure registry domain for those who want the webhook's own decisions (validation,
 * `.dockerconfigjson`). See docs/client.md.
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
