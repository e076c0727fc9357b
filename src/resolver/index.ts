/** The resolver: index, sources, HTTP API and the client for controller authors. */
export {
  REGISTRY_CONFIG_ROUTE,
  registryConfigPath,
  isNamespaceName,
  NDJSON_CONTENT_TYPE,
  NO_REGISTRY_CONFIG,
  type ErrorBody,
  type RegistryConfig,
  type RegistryConfigEvent,
  type RegistryConfigNotFound,
  type RegistrySource,
  type SecretName,
} from './api.js';
export {
  createRegistryConfigClient,
  RegistryConfigError,
  type RegistryConfigClient,
  type RegistryConfigClientOptions,
  type RegistryConfigWatch,
  type WatchOptions,
} from './client.js';
export { createDirectorySource, type DirectorySourceOptions } from './directory-source.js';
export { MANIFEST_FILE, parseSecretManifests, type ManifestResult } from './manifest-files.js';
export {
  RegistryIndex,
  type IndexChange,
  type IndexChangeListener,
  type IndexEvent,
  type RegistryConfigReader,
  type RegistryIndexOptions,
  type RegistryIndexSize,
  type ResolutionListener,
} from './registry-index.js';
export { startResolverService, type ResolverService, type ResolverServiceOptions } from './resolver-service.js';
export {
  DEFAULT_HEARTBEAT_MS,
  registerResolverRoutes,
  type AuthorizeDecision,
  type AuthorizeHook,
  type ResolverRoutesOptions,
} from './routes.js';
export type { RegistrySecretSink, RegistrySecretSource } from './source.js';
