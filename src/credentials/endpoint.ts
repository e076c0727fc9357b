/**
 * Where a registry config's login goes: `serverAddress` as docker reads it (scheme optional, a
 * trailing `/v1/` or `/v2/` ignored, Docker Hub's index names mapped to registry-1.docker.io),
 * and the repository scope a push would need (from `registryAddress`).
 */
export interface RegistryEndpoint {
  scheme: 'https' | 'http';
  /** Host name or IP address, without brackets. */
  hostname: string;
  port: number;
  /** `host[:port]` as sent in the Host header (brackets kept for IPv6). */
  authority: string;
}

export type EndpointResult = { ok: true; endpoint: RegistryEndpoint } | { ok: false; reason: string };

/** Docker's names for Docker Hub; `docker login` sends them all to registry-1.docker.io. */
const DOCKER_HUB_NAMES = new Set(['index.docker.io', 'docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';

/** The repository a check asks push rights for: a name no one pushes to, under the config's path. */
export const PROBE_REPOSITORY = 'registry-config-webhook-credential-check';

/**
 * `serverAddress` to an endpoint. Without a scheme: https, or http when `plainHttpDefault` (the
 * internal in-cluster registry). Never throws.
 */
export function registryEndpoint(serverAddress: string, options: { plainHttpDefault?: boolean } = {}): EndpointResult {
  const text = serverAddress.trim();
  if (text === '') return { ok: false, reason: 'serverAddress is empty' };
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text);
  const scheme = schemeMatch ? (schemeMatch[1] as string).toLowerCase() : options.plainHttpDefault ? 'http' : 'https';
  if (scheme !== 'https' && scheme !== 'http') return { ok: false, reason: `serverAddress has scheme "${scheme}": only https (and http for trusted configs) can be checked` };
  const rest = schemeMatch ? text.slice(schemeMatch[0].length) : text;
  let url: URL;
  try {
    url = new URL(`${scheme}://${rest}`);
  } catch {
    return { ok: false, reason: 'serverAddress is not a host name with an optional port' };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'serverAddress must not carry user information' };
  let hostname = url.hostname.toLowerCase();
  if (hostname.startsWith('[') && hostname.endsWith(']')) hostname = hostname.slice(1, -1);
  if (hostname === '') return { ok: false, reason: 'serverAddress has no host' };
  if (DOCKER_HUB_NAMES.has(hostname)) {
    return { ok: true, endpoint: { scheme: 'https', hostname: DOCKER_HUB_REGISTRY, port: 443, authority: DOCKER_HUB_REGISTRY } };
  }
  const port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
  return { ok: true, endpoint: { scheme, hostname, port, authority: url.host } };
}

/** The URL of `path` on the endpoint, e.g. `/v2/`. */
export function endpointUrl(endpoint: RegistryEndpoint, path: string): URL {
  return new URL(`${endpoint.scheme}://${endpoint.authority}${path}`);
}

/**
 * The repository path for the token scope: `registryAddress` without its leading host (a first
 * component with a dot or colon, or `localhost`), plus the probe name.
 */
export function probeRepository(registryAddress: string): string {
  const parts = registryAddress.trim().replace(/^[a-z]+:\/\//i, '').split('/').filter((part) => part !== '');
  const first = parts[0];
  if (first !== undefined && (first.includes('.') || first.includes(':') || first === 'localhost')) parts.shift();
  const path = parts.map((part) => part.toLowerCase()).filter((part) => /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(part));
  return [...path, PROBE_REPOSITORY].join('/');
}
