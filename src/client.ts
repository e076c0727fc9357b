/**
 * `registry-config-webhook/client`: what a controller imports to ask the resolver. Node built-ins
 * only (test/package/ checks the import graph of the built file and of its type declarations), so
 * installing the package for the client does not need the server's dependencies at run time.
 */
export {
  createRegistryConfigClient,
  RegistryConfigError,
  type RegistryConfigClient,
  type RegistryConfigClientOptions,
  type RegistryConfigWatch,
  type WatchOptions,
} from './resolver/client.js';
export {
  NDJSON_CONTENT_TYPE,
  NO_REGISTRY_CONFIG,
  registryConfigPath,
  type CredentialState,
  type CredentialStatus,
  type ErrorBody,
  type RegistryConfig,
  type RegistryConfigEvent,
  type RegistryConfigNotFound,
  type RegistrySource,
  type SecretName,
} from './resolver/api.js';
