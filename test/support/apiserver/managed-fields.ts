/**
 * An approximation of server-side field management for `Update` operations: each manager owns the
 * leaf fields it set or changed; fields another manager changes move to that manager; entries left
 * with no field disappear. Lists and atomic structs are single leaves (the real server keys
 * list items with `k:{...}`/`v:...`). Good enough for clients that read or round-trip managedFields.
 */
import type { Shape } from './shape.js';
import { isPlainObject, type KubeObject, type ManagedFieldsEntry } from './types.js';

const SEP = '\u0001';
// Non-pointer structs whose own presence is not tracked (no "." entry), as in recorded fieldsV1.
const UNTRACKED_ROOTS = new Set(['metadata', 'spec', 'status']);
const TRACKED_META = ['labels', 'annotations', 'finalizers', 'ownerReferences'];

/** Leaf paths of an object with their JSON values. */
function leaves(obj: KubeObject, shape: Shape | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (value: unknown, path: string[], s: Shape | undefined): void => {
    if (isPlainObject(value) && !s?.atomic && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) if (v !== undefined) walk(v, [...path, k], s?.fields?.[k]);
      return;
    }
    out.set(path.join(SEP), JSON.stringify(value));
  };
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'kind' || key === 'apiVersion' || value === undefined) continue;
    if (key === 'metadata') {
      if (!isPlainObject(value)) continue;
      for (const m of TRACKED_META) {
        const v = value[m];
        if (v !== undefined && !(isPlainObject(v) && Object.keys(v).length === 0) && !(Array.isArray(v) && v.length === 0)) {
          walk(v, ['metadata', m], undefined);
        }
      }
      continue;
    }
    walk(value, [key], shape?.fields?.[key]);
  }
  return out;
}

function parseFields(fieldsV1: Record<string, unknown>, prefix: string[] = [], out = new Set<string>()): Set<string> {
  for (const [k, v] of Object.entries(fieldsV1)) {
    if (k === '.' || !k.startsWith('f:')) continue;
    const path = [...prefix, k.slice(2)];
    const children = isPlainObject(v) ? Object.keys(v).filter((c) => c.startsWith('f:')) : [];
    if (children.length === 0) out.add(path.join(SEP));
    else parseFields(v as Record<string, unknown>, path, out);
  }
  return out;
}

function renderFields(paths: Iterable<string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const path of [...paths].sort()) {
    const parts = path.split(SEP);
    let node = root;
    parts.forEach((part, i) => {
      const key = `f:${part}`;
      const isLeaf = i === parts.length - 1;
      let child = node[key] as Record<string, unknown> | undefined;
      if (!child) {
        child = {};
        node[key] = child;
      }
      if (!isLeaf && !(i === 0 && UNTRACKED_ROOTS.has(part))) child['.'] = {};
      node = child;
    });
  }
  return sortDeep(root) as Record<string, unknown>;
}

function sortDeep(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortDeep(value[key]);
  return out;
}

export interface ManagerWrite {
  manager: string;
  operation: 'Update' | 'Apply';
  apiVersion: string;
  time: string;
  subresource?: string;
}

/**
 * managedFields after `write` turned `before` (undefined on create) into `after`.
 * `existing` are the stored entries; client-sent managedFields are ignored.
 */
export function updateManagedFields(
  existing: readonly ManagedFieldsEntry[] | undefined,
  before: KubeObject | undefined,
  after: KubeObject,
  write: ManagerWrite,
  shape: Shape | undefined,
): ManagedFieldsEntry[] | undefined {
  const now = leaves(after, shape);
  const old = before ? leaves(before, shape) : new Map<string, string>();
  const changed = [...now.keys()].filter((p) => old.get(p) !== now.get(p));
  const sameEntry = (e: ManagedFieldsEntry): boolean =>
    e.manager === write.manager && e.operation === write.operation && (e.subresource ?? '') === (write.subresource ?? '');

  const entries: ManagedFieldsEntry[] = [];
  let mine: ManagedFieldsEntry | undefined;
  for (const entry of existing ?? []) {
    const owned = [...parseFields(entry.fieldsV1)].filter((p) => now.has(p));
    if (sameEntry(entry)) {
      const set = new Set([...owned, ...changed]);
      const grew = changed.some((p) => !owned.includes(p));
      mine = { ...entry, time: grew ? write.time : entry.time, fieldsV1: renderFields(set) };
      if (set.size > 0) entries.push(mine);
      continue;
    }
    const kept = owned.filter((p) => !changed.includes(p));
    if (kept.length > 0) entries.push({ ...entry, fieldsV1: renderFields(kept) });
  }
  if (!mine && changed.length > 0) {
    const entry: ManagedFieldsEntry = {
      manager: write.manager,
      operation: write.operation,
      apiVersion: write.apiVersion,
      time: write.time,
      fieldsType: 'FieldsV1',
      fieldsV1: renderFields(changed),
    };
    if (write.subresource) entry.subresource = write.subresource;
    entries.push(entry);
  }
  return entries.length > 0 ? entries : undefined;
}

/** The manager name: `fieldManager`, else the User-Agent up to its first "/" (as kube-apiserver derives it). */
export function managerName(fieldManager: string | null | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  const agent = (userAgent ?? '').split('/')[0] ?? '';
  return agent.slice(0, 128);
}
