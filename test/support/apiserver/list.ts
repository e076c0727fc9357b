/**
 * LIST semantics: selectors, resourceVersion / resourceVersionMatch, and `limit` + `continue` paging
 * with the real token format (base64url of {"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}).
 * Paging walks keys in etcd order; with a selector a page may end with `continue` although nothing
 * matches after it, and `remainingItemCount` is only given without selectors (recorded).
 */
import type { ResourceKind } from './kinds.js';
import {
  checkFieldLabels, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError,
} from './selectors.js';
import { errors, fieldErrors } from './status.js';
import type { ObjectStore, StoreEntry } from './store.js';
import type { KubeObject, StoredObject } from './types.js';

export type ObjectFilter = (obj: KubeObject) => boolean;

function fieldValues(kind: ResourceKind, obj: KubeObject): Record<string, string> {
  const meta = obj.metadata ?? {};
  return { 'metadata.name': meta.name ?? '', 'metadata.namespace': meta.namespace ?? '', ...kind.fieldLabels?.(obj) };
}

/** Namespace + labelSelector + fieldSelector of a request; bad selectors are a 400. */
export function objectFilter(kind: ResourceKind, namespace: string | undefined, params: URLSearchParams): ObjectFilter {
  try {
    const labels = parseLabelSelector(params.get('labelSelector') ?? '');
    const fields = parseFieldSelector(params.get('fieldSelector') ?? '');
    checkFieldLabels(fields, Object.keys(fieldValues(kind, {})));
    return (obj) => {
      if (namespace && kind.namespaced && obj.metadata?.namespace !== namespace) return false;
      return matchesLabels(labels, obj.metadata?.labels) && matchesFields(fields, fieldValues(kind, obj));
    };
  } catch (error) {
    if (error instanceof SelectorError) throw errors.badRequest(error.message);
    throw error;
  }
}

const CONTINUE_VERSION = 'meta.k8s.io/v1';

export const EXPIRED_CONTINUE_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

export function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: CONTINUE_VERSION, rv, start }), 'utf8').toString('base64url');
}

export function decodeContinue(token: string): { rv: number; start: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw errors.badRequest('continue key is not valid: illegal base64 data or JSON');
  }
  const p = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (p.v !== CONTINUE_VERSION || typeof p.rv !== 'number' || typeof p.start !== 'string') {
    throw errors.badRequest(`continue key is not valid: incorrect encoded start resourceVersion (version ${CONTINUE_VERSION})`);
  }
  // An "inconsistent" token (rv -1) carries the start without its leading slash.
  return { rv: p.rv, start: p.start.startsWith('/') ? p.start : `/${p.start}` };
}

function parseResourceVersion(value: string): number {
  if (!/^\d+$/.test(value)) throw errors.badRequest(`invalid resource version "${value}"`);
  return Number(value);
}

const listOptionsKind = { group: 'meta.k8s.io', kind: 'ListOptions' };

interface Snapshot {
  rv: number;
  entries: StoreEntry[];
  /** Exclusive lower bound of keys (relative to the list prefix), '' for the start. */
  start: string;
}

function snapshotFor(store: ObjectStore, kind: ResourceKind, namespace: string | undefined, params: URLSearchParams, limit: number): Snapshot {
  const ns = kind.namespaced ? namespace : undefined;
  const token = params.get('continue');
  const rvParam = params.get('resourceVersion') ?? '';
  const match = params.get('resourceVersionMatch') ?? '';
  const current = store.currentResourceVersion;

  if (token) {
    if (rvParam && rvParam !== '0') throw errors.badRequest('specifying resource version is not allowed when using continue');
    const decoded = decodeContinue(token);
    if (decoded.rv === -1) return { rv: current, entries: store.list(kind.table, ns), start: decoded.start };
    const entries = store.snapshot(kind.table, decoded.rv, ns);
    if (!entries) throw errors.expired(EXPIRED_CONTINUE_MESSAGE, encodeContinue(-1, decoded.start.slice(1)));
    return { rv: Math.min(decoded.rv, current), entries, start: decoded.start };
  }

  if (match) {
    if (match !== 'Exact' && match !== 'NotOlderThan') {
      throw errors.invalid(listOptionsKind, '', [fieldErrors.notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan'])]);
    }
    if (!rvParam) throw errors.invalid(listOptionsKind, '', [fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided')]);
    if (match === 'Exact' && rvParam === '0') {
      throw errors.invalid(listOptionsKind, '', [fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')]);
    }
  }
  const requested = rvParam ? parseResourceVersion(rvParam) : undefined;
  if (requested !== undefined && requested > current) throw errors.tooLargeResourceVersion(requested, current);
  // Exact: explicit, or legacy semantics of a non-zero resourceVersion together with a limit.
  const exact = match === 'Exact' || (!match && requested !== undefined && requested !== 0 && limit > 0);
  if (exact && requested !== undefined) {
    const entries = store.snapshot(kind.table, requested, ns);
    if (!entries) throw errors.expired('The resourceVersion for the provided list is too old.');
    return { rv: requested, entries, start: '' };
  }
  return { rv: current, entries: store.list(kind.table, ns), start: '' };
}

export interface ListBody {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: KubeObject[];
}

/**
 * Serves a LIST. `view` turns a stored object into its API form (kind/apiVersion included);
 * list items drop kind/apiVersion like the real server.
 */
export function listObjects(
  store: ObjectStore,
  kind: ResourceKind,
  namespace: string | undefined,
  params: URLSearchParams,
  view: (stored: StoredObject) => KubeObject,
): ListBody {
  const filter = objectFilter(kind, namespace, params);
  const hasSelector = Boolean(params.get('labelSelector') || params.get('fieldSelector'));
  const limitParam = params.get('limit');
  const limit = limitParam && /^\d+$/.test(limitParam) ? Number(limitParam) : 0;
  const snapshot = snapshotFor(store, kind, namespace, params, limit);

  // Keys relative to the list prefix: "/<ns>/<name>" across namespaces, "/<name>" inside one.
  const prefixLength = kind.namespaced && namespace ? namespace.length + 1 : 0;
  const relative = (entry: StoreEntry): string => entry.key.slice(prefixLength);

  const items: KubeObject[] = [];
  let last: string | undefined;
  let i = snapshot.start ? snapshot.entries.findIndex((e) => relative(e) >= snapshot.start) : 0;
  if (i < 0) i = snapshot.entries.length;
  for (; i < snapshot.entries.length; i++) {
    if (limit > 0 && items.length >= limit) break;
    const entry = snapshot.entries[i];
    if (!entry) continue;
    const object = view(entry.object);
    if (!filter(object)) continue;
    delete object.kind;
    delete object.apiVersion;
    items.push(object);
    last = relative(entry);
  }

  const metadata: ListBody['metadata'] = { resourceVersion: String(snapshot.rv) };
  if (limit > 0 && i < snapshot.entries.length && last !== undefined) {
    metadata.continue = encodeContinue(snapshot.rv, `${last}\u0000`);
    if (!hasSelector) metadata.remainingItemCount = snapshot.entries.length - i;
  }
  return { kind: kind.listKind, apiVersion: kind.apiVersion, metadata, items };
}
