/** Discovery documents (/api, /apis, /api/v1, /apis/<g>/<v>, /version) generated from the registered kinds. */
import type { ResourceKind } from './kinds.js';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function resourceList(groupVersion: string, kinds: readonly ResourceKind[]): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const k of kinds) {
    resources.push({ name: k.plural, singularName: k.singular, namespaced: k.namespaced, kind: k.kind, verbs: [...(k.verbs ?? ALL_VERBS)] });
    const sub = (name: string, verbs: string[], kind = k.kind, group?: string): void => {
      const entry: Record<string, unknown> = { name: `${k.plural}/${name}`, singularName: '', namespaced: k.namespaced };
      if (group) Object.assign(entry, { group, version: 'v1' });
      Object.assign(entry, { kind, verbs });
      resources.push(entry);
    };
    if (k.statusSubresource) sub('status', ['get', 'patch', 'update']);
    if (k.group === '' && k.plural === 'namespaces') sub('finalize', ['update']);
    if (k.group === '' && k.plural === 'serviceaccounts') sub('token', ['create'], 'TokenRequest', 'authentication.k8s.io');
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function groupEntry(group: string, kinds: readonly ResourceKind[]): Record<string, unknown> {
  const versions = [...new Set(kinds.filter((k) => k.group === group).map((k) => k.version))].map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

/** The discovery answer for `path`, or undefined when it is not a discovery path. */
export function discoveryDocument(path: string, kinds: readonly ResourceKind[], serverAddress: string): unknown {
  const trimmed = path.replace(/\/+$/, '') || '/';
  if (trimmed === '/version') {
    return {
      major: '1', minor: '36', emulationMajor: '1', emulationMinor: '36', minCompatibilityMajor: '1', minCompatibilityMinor: '35',
      gitVersion: 'v1.36.2', gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean',
      buildDate: '2026-11-01T00:00:00Z', goVersion: 'go1.25.0', compiler: 'gc', platform: 'linux/amd64',
    };
  }
  if (trimmed === '/api') {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  }
  if (trimmed === '/api/v1') return resourceList('v1', kinds.filter((k) => k.group === ''));
  const groups = [...new Set(kinds.map((k) => k.group).filter((g) => g !== ''))];
  if (trimmed === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => groupEntry(g, kinds)) };
  const match = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(trimmed);
  if (!match) return undefined;
  const [, group = '', version] = match;
  if (!groups.includes(group)) return undefined;
  if (!version) return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group, kinds) };
  const inVersion = kinds.filter((k) => k.group === group && k.version === version);
  return inVersion.length > 0 ? resourceList(`${group}/${version}`, inVersion) : undefined;
}
