/** The RFC 6902 patch that makes `data[".dockerconfigjson"]` of a Secret (of any actual shape) hold a given value. */
import type { JsonPatchOperation } from '../admission/types.js';
import { isRecord, ownValue } from './guards.js';
import { jsonPointer } from './json-pointer.js';
import { DOCKER_CONFIG_JSON_KEY } from './labels.js';

/**
 * No operation when the stored value is already byte-identical (copies are re-written every few
 * minutes; an empty patch keeps them untouched), `add` when the key is absent, `replace` otherwise.
 * Without a `data` object, `data` itself is added: RFC 6902 cannot add a member to a missing parent.
 */
export function dockerConfigJsonPatch(secret: Record<string, unknown>, encodedValue: string): JsonPatchOperation[] {
  const data = ownValue(secret, 'data');
  if (!isRecord(data)) {
    return [{ op: 'add', path: jsonPointer('data'), value: { [DOCKER_CONFIG_JSON_KEY]: encodedValue } }];
  }
  const path = jsonPointer('data', DOCKER_CONFIG_JSON_KEY);
  if (!Object.hasOwn(data, DOCKER_CONFIG_JSON_KEY)) return [{ op: 'add', path, value: encodedValue }];
  if (data[DOCKER_CONFIG_JSON_KEY] === encodedValue) return [];
  return [{ op: 'replace', path, value: encodedValue }];
}
