import jsonpatch from 'fast-json-patch';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeJsonPointerToken, jsonPointer } from '../../src/registry/index.js';

describe('JSON pointers', () => {
  it('leaves .dockerconfigjson as it is', () => {
    expect(jsonPointer('data', '.dockerconfigjson')).toBe('/data/.dockerconfigjson');
  });

  it('escapes ~ before / (RFC 6901)', () => {
    expect(escapeJsonPointerToken('a/b~c~1')).toBe('a~1b~0c~01');
  });

  it('points at exactly the member named by any key', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '/', '~', '0', '1', '.', ' ') }), (key) => {
        const document = { data: { [key]: 'target', [`${key}x`]: 'other' } };
        expect(jsonpatch.getValueByPointer(document, jsonPointer('data', key))).toBe('target');
      }),
    );
  });
});
