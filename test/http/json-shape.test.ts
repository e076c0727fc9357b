import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJsonShape } from '../../src/http/json-shape.js';

const limits = { maxDepth: 4, maxContainers: 6 };
const check = (text: string, l = limits) => checkJsonShape(Buffer.from(text, 'utf8'), l);

/** Depth and container count of a parsed value, the slow obvious way. */
function shape(value: unknown): { depth: number; containers: number } {
  if (value === null || typeof value !== 'object') return { depth: 0, containers: 0 };
  const children = (Array.isArray(value) ? value : Object.values(value)).map(shape);
  return { depth: 1 + Math.max(0, ...children.map((c) => c.depth)), containers: 1 + children.reduce((n, c) => n + c.containers, 0) };
}

describe('checkJsonShape', () => {
  it('counts nesting and containers outside strings only', () => {
    expect(check('[[[[1]]]]')).toEqual({ ok: true });
    expect(check('[[[[[1]]]]]')).toEqual({ ok: false, reason: 'JSON nested deeper than 4 levels' });
    expect(check('[[],[],[],[],[]]')).toEqual({ ok: true });
    expect(check('[[],[],[],[],[],[]]')).toEqual({ ok: false, reason: 'JSON has more than 6 arrays and objects' });
    expect(check('{"a":"[[[[[[[[{{{{{{"}')).toEqual({ ok: true });
  });

  it('sees escaped quotes and backslashes in strings as they are', () => {
    // The string holds `\"[[[[[` : the quote is escaped, so the brackets stay inside the string.
    expect(check(String.raw`["\"[[[[[[", 1]`)).toEqual({ ok: true });
    // The string ends with an escaped backslash: the brackets after it are structure.
    expect(check(String.raw`["a\\", [[[[1]]]]]`)).toEqual({ ok: false, reason: 'JSON nested deeper than 4 levels' });
    expect(check('["é€😀[[[[[[", {"ключ": ["]]]]"]}]')).toEqual({ ok: true });
  });

  it('agrees with JSON.parse on any JSON, small or over the size where strings are skipped natively', () => {
    const deep = { maxDepth: 3, maxContainers: 12 };
    const padded = (v: unknown) => JSON.stringify([v, 'x'.repeat(70_000)]); // 64 KiB+: the indexOf path
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.boolean(), (value, large) => {
        const text = large ? padded(value) : JSON.stringify(value);
        const actual = shape(JSON.parse(text));
        const verdict = checkJsonShape(Buffer.from(text, 'utf8'), deep);
        expect(verdict.ok).toBe(actual.depth <= deep.maxDepth && actual.containers <= deep.maxContainers);
      }),
      { numRuns: 400 },
    );
  });
});
