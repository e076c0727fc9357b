/**
 * The resolver's HTTP API as both sides see it: path, JSON shapes and the watch stream's events.
 * Nothing here ever carries a credential: a controller reads the Secret itself with its own RBAC.
 */
import type { RegistryConfig, RegistryConfigNotFound } from '../registry/registry-config.js';

export type { CredentialState, CredentialStatus, RegistryConfig, RegistryConfigNotFound, RegistrySource, SecretName } from '../registry/registry-config.js';

/** `GET` answers 200 RegistryConfig or 404 RegistryConfigNotFound; `?watch=true` streams events. */
export const REGISTRY_CONFIG_ROUTE = '/v1/namespaces/:namespace/registry-config';

export function registryConfigPath(namespace: string): string {
  return `/v1/namespaces/${encodeURIComponent(namespace)}/registry-config`;
}

/**
 * One line of the watch stream (NDJSON, `application/x-ndjson`):
 * - `ADDED`: the first event, a config applies;
 * - `MODIFIED`: the answer changed, a config applies;
 * - `DELETED`: nothing applies (as the first event, or since a change), with the 404's reason;
 * - `HEARTBEAT`: keeps proxies from cutting an idle stream; carries no state.
 * The first event always states the current answer, so a reconnecting client needs no GET.
 */
export type RegistryConfigEvent =
  | { type: 'ADDED' | 'MODIFIED'; config: RegistryConfig }
  | ({ type: 'DELETED'; config: null } & RegistryConfigNotFound)
  | { type: 'HEARTBEAT' };

/** Content type of the watch stream: one JSON event per line. */
export const NDJSON_CONTENT_TYPE = 'application/x-ndjson';
/** The 404 body's code, so a client tells "nothing applies" from "wrong URL". */
export const NO_REGISTRY_CONFIG = 'NO_REGISTRY_CONFIG';

/** Error bodies (400, 401, 403, 429, 503): the server's common shape (`Error` in openapi.ts). */
export interface ErrorBody {
  code: string;
  message: string;
}

/** DNS-1123 label, as Kubernetes requires of namespace names. */
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isNamespaceName(value: string): boolean {
  return value.length <= 63 && DNS_1123_LABEL.test(value);
}
