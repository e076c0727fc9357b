/**
 * URL layout of the Kubernetes API: /api/v1/... (core) and /apis/<group>/<version>/..., cluster-wide
 * or under namespaces/<ns>/, optional /<name>/<subresource>, and the deprecated /watch/ prefix.
 */
import type { KindRegistry, ResourceKind } from './kinds.js';
import type { Verb } from './types.js';

export interface ResourceRoute {
  kind: ResourceKind;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** The deprecated `/watch/` path prefix was used. */
  watchPrefix: boolean;
}

export type Route = { type: 'resource'; route: ResourceRoute } | { type: 'other' };

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function parseRoute(pathname: string, kinds: KindRegistry): Route {
  const segments = pathname.split('/').filter((s) => s !== '').map(decode);
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) {
    group = '';
    version = segments[1] ?? '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    group = segments[1] ?? '';
    version = segments[2] ?? '';
    rest = segments.slice(3);
  } else return { type: 'other' };

  const watchPrefix = rest[0] === 'watch';
  if (watchPrefix) rest = rest.slice(1);

  // namespaces/<ns>/<namespaced plural>[/<name>[/<subresource>]]
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const kind = kinds.find(group, version, rest[2] ?? '');
    if (kind?.namespaced && rest.length <= 5) {
      return { type: 'resource', route: { kind, namespace: rest[1], name: rest[3], subresource: rest[4], watchPrefix } };
    }
  }
  const kind = kinds.find(group, version, rest[0] ?? '');
  if (!kind || rest.length > 3) return { type: 'other' };
  // A namespaced plural without a namespace is only a cluster-wide collection (list / watch).
  if (kind.namespaced && rest.length > 1) return { type: 'other' };
  return { type: 'resource', route: { kind, name: rest[1], subresource: rest[2], watchPrefix } };
}

/** Go's strconv.ParseBool truths, as query flags (watch, allowWatchBookmarks) are parsed. */
export function truthy(value: string | null): boolean {
  return value !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value);
}

/** The verb of a request, as the API server's RequestInfo derives it; undefined if the method is not served. */
export function verbOf(method: string, route: ResourceRoute, params: URLSearchParams): Verb | undefined {
  const watch = route.watchPrefix || truthy(params.get('watch'));
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (watch) return 'watch';
      return route.name ? 'get' : 'list';
    case 'POST':
      return !route.name || route.subresource ? 'create' : undefined;
    case 'PUT':
      return route.name ? 'update' : undefined;
    case 'PATCH':
      return route.name ? 'patch' : undefined;
    case 'DELETE':
      return route.name ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}
