/**
 * The package's main entry: the typed resolver client (also alone, as `registry-config-webhook/client`)
 * and the pure registry domain for those who want the webhook's own decisions (validation,
 * `.dockerconfigjson`). See docs/client.md.
 */
export * from './client.js';
export {
  dockerConfigJson,
  mutateRegistrySecret,
  readRegistryCredentials,
  describeProblems,
  type RegistryCredentials,
} from './registry/index.js';
