/**
 * Serialisation shape of a kind: the key order Go's encoding/json produces (struct field order,
 * sorted map keys) and which fields disappear when empty (`omitempty`). Values are never invented
 * here; defaults are the kinds' job.
 */
import { isPlainObject } from './types.js';

export interface Shape {
  /** Keys first, in this order; other keys follow in their existing order. */
  readonly order?: readonly string[];
  /** Child keys dropped when empty: undefined, null, "", {} or []. */
  readonly omitEmpty?: readonly string[];
  /** A Go map: keys sorted. */
  readonly sortKeys?: boolean;
  /** Shapes of child fields. */
  readonly fields?: Readonly<Record<string, Shape>>;
  /** Shape of every element when the value is an array. */
  readonly items?: Shape;
  /** managedFields treat the value as one leaf (atomic struct). */
  readonly atomic?: boolean;
}

export const objectMetaShape: Shape = {
  order: [
    'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
    'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
  ],
  omitEmpty: [
    'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
    'deletionTimestamp', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
  ],
  fields: {
    labels: { sortKeys: true },
    annotations: { sortKeys: true },
    ownerReferences: { items: { order: ['apiVersion', 'kind', 'name', 'uid', 'controller', 'blockOwnerDeletion'] } },
    managedFields: { items: { order: ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1', 'subresource'] } },
  },
};

/** Shape of a whole object: kind, apiVersion, metadata first, then the kind's fields. */
export function objectShape(shape: Shape = {}): Shape {
  return {
    ...shape,
    order: ['kind', 'apiVersion', 'metadata', ...(shape.order ?? [])],
    fields: { metadata: objectMetaShape, ...shape.fields },
  };
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.keys(value).length === 0;
}

/** Returns a re-ordered, pruned copy of `value`. */
export function applyShape(value: unknown, shape: Shape | undefined): unknown {
  if (Array.isArray(value)) return value.map((item) => applyShape(item, shape?.items));
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  let ordered: string[];
  if (shape?.sortKeys) ordered = [...keys].sort();
  else {
    const first = (shape?.order ?? []).filter((k) => keys.includes(k));
    ordered = [...first, ...keys.filter((k) => !first.includes(k))];
  }
  const out: Record<string, unknown> = {};
  for (const key of ordered) {
    const child = value[key];
    if (shape?.omitEmpty?.includes(key) && isEmpty(child)) continue;
    out[key] = applyShape(child, shape?.fields?.[key]);
  }
  return out;
}

/** Drops `null` members recursively: JSON null decodes to a Go zero value that omitempty removes. */
export function pruneNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pruneNulls);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) if (child !== null && child !== undefined) out[key] = pruneNulls(child);
  return out;
}
