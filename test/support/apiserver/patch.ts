/**
 * Patch mechanics as kube-apiserver applies them: RFC 6902 JSON patch with evanphx/json-patch v4
 * behaviour (a `replace` of a missing object key acts like `add`; `test` of a missing path against
 * null passes), RFC 7386 merge patch, and a strategic merge patch reduced to merge patch plus the
 * `metadata.finalizers` set semantics controllers rely on.
 */
import { clone, isPlainObject, jsonEqual } from './types.js';

/** The patch document itself is malformed (400). */
export class PatchDecodeError extends Error {}
/** The patch does not apply to the object (422 with a generic message). */
export class PatchApplyError extends Error {}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
  hasValue: boolean;
}

function decodeOperations(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) throw new PatchDecodeError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  return patch.map((raw) => {
    if (!isPlainObject(raw)) throw new PatchDecodeError('json: cannot unmarshal into Go value of type jsonpatch.Operation');
    const { op, path, from } = raw;
    if (typeof op !== 'string') throw new PatchDecodeError('json: cannot unmarshal op');
    return {
      op,
      path: typeof path === 'string' ? path : '',
      from: typeof from === 'string' ? from : undefined,
      value: raw.value,
      hasValue: Object.hasOwn(raw, 'value'),
    };
  });
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchApplyError(`JSON pointer must start with "/": ${pointer}`);
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

/** Resolves the parent container of `path`, or throws like evanphx's "doc is missing path". */
function parentOf(doc: unknown, parts: string[], path: string): { parent: Container; key: string } {
  let node: unknown = doc;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(part, node.length - 1, path)];
    else if (isPlainObject(node) && Object.hasOwn(node, part)) node = node[part];
    else throw new PatchApplyError(`doc is missing path: "${path}": missing value`);
  }
  if (!Array.isArray(node) && !isPlainObject(node)) throw new PatchApplyError(`doc is missing path: "${path}": missing value`);
  return { parent: node, key: parts[parts.length - 1] ?? '' };
}

function arrayIndex(part: string, max: number, path: string): number {
  if (!/^(0|[1-9]\d*)$/.test(part)) throw new PatchApplyError(`Unable to access invalid index: ${part}: invalid index referenced: ${path}`);
  const index = Number(part);
  if (index > max) throw new PatchApplyError(`Unable to access invalid index: ${index}: invalid index referenced: ${path}`);
  return index;
}

function read(doc: unknown, path: string): { found: boolean; value?: unknown } {
  let node: unknown = doc;
  for (const part of parsePointer(path)) {
    if (Array.isArray(node) && /^(0|[1-9]\d*)$/.test(part) && Number(part) < node.length) node = node[Number(part)];
    else if (isPlainObject(node) && Object.hasOwn(node, part)) node = node[part];
    else return { found: false };
  }
  return { found: true, value: node };
}

function addAt(doc: unknown, path: string, value: unknown): unknown {
  const parts = parsePointer(path);
  if (parts.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : arrayIndex(key, parent.length, path);
    parent.splice(index, 0, clone(value));
  } else parent[key] = clone(value);
  return doc;
}

function removeAt(doc: unknown, path: string): unknown {
  const parts = parsePointer(path);
  const { parent, key } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length - 1, path), 1);
  else {
    if (!Object.hasOwn(parent, key)) throw new PatchApplyError(`Unable to remove nonexistent key: ${key}: missing value`);
    delete parent[key];
  }
  return doc;
}

function replaceAt(doc: unknown, path: string, value: unknown): unknown {
  const parts = parsePointer(path);
  if (parts.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) parent[arrayIndex(key, parent.length - 1, path)] = clone(value);
  else parent[key] = clone(value); // recorded: a missing map key is simply set
  return doc;
}

/** Applies an RFC 6902 patch to a copy of `doc`. */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  let result = clone(doc);
  for (const op of decodeOperations(patch)) {
    switch (op.op) {
      case 'add':
        if (!op.hasValue) throw new PatchApplyError('missing value');
        result = addAt(result, op.path, op.value);
        break;
      case 'remove':
        result = removeAt(result, op.path);
        break;
      case 'replace':
        if (!op.hasValue) throw new PatchApplyError('missing value');
        result = replaceAt(result, op.path, op.value);
        break;
      case 'move':
      case 'copy': {
        const source = read(result, op.from ?? '');
        if (!source.found) throw new PatchApplyError(`doc is missing from path: "${op.from ?? ''}": missing value`);
        if (op.op === 'move') result = removeAt(result, op.from ?? '');
        result = addAt(result, op.path, source.value);
        break;
      }
      case 'test': {
        const target = read(result, op.path);
        const ok = target.found ? jsonEqual(target.value, op.value) : op.value === null || op.value === undefined;
        if (!ok) throw new PatchApplyError(`testing value ${op.path} failed: test failed`);
        break;
      }
      default:
        throw new PatchApplyError(`Unexpected kind: ${op.op}`);
    }
  }
  return result;
}

/** RFC 7386: objects merge recursively, null removes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/**
 * Strategic merge patch, simplified: a merge patch, except `metadata.finalizers` merges as a set
 * and honours `$deleteFromPrimitiveList/finalizers`, and `$patch: delete|replace` on a map.
 */
export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) throw new PatchDecodeError('strategic merge patch must be a JSON object');
  const merged = strategicMerge(target, patch, []);
  return merged;
}

function strategicMerge(target: unknown, patch: Record<string, unknown>, path: string[]): unknown {
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return clone(rest);
  }
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  const isMeta = path.length === 1 && path[0] === 'metadata';
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete result[key];
    else if (isMeta && key === 'finalizers' && Array.isArray(value)) {
      const current = Array.isArray(result[key]) ? (result[key] as unknown[]) : [];
      result[key] = [...current, ...value.filter((v) => !current.includes(v))];
    } else if (isPlainObject(value)) {
      const merged = strategicMerge(result[key], value, [...path, key]);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else result[key] = clone(value);
  }
  const toDelete = patch['$deleteFromPrimitiveList/finalizers'];
  if (isMeta && Array.isArray(toDelete) && Array.isArray(result.finalizers)) {
    result.finalizers = (result.finalizers as unknown[]).filter((f) => !toDelete.includes(f));
  }
  return result;
}
