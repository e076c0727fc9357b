import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Strict, decodeBase64Utf8, encodeBase64Utf8 } from '../../src/registry/index.js';

/** Reference encoder: Node's, which always emits canonical padded standard base64. */
const reference = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

describe('decodeBase64Strict', () => {
  it.each([
    ['', ''],
    ['YQ==', 'a'],
    ['YWI=', 'ab'],
    ['YWJj', 'abc'],
    ['czNjcjN0LXBhc3M=', 's3cr3t-pass'],
    ['+/8=', '\u00fb\u00ff'],
  ])('decodes %j', (input, latin1) => {
    expect(Buffer.from(decodeBase64Strict(input) ?? []).toString('latin1')).toBe(latin1);
  });

  it.each([
    ['YQ', 'missing padding'],
    ['YWI', 'missing padding'],
    ['YQ=', 'short padding'],
    ['YQ===', 'too much padding'],
    ['Y===', 'three padding characters'],
    ['====', 'only padding'],
    ['YQ==YQ==', 'padding in the middle'],
    ['YW=j', 'padding inside a quantum'],
    ['YWJ', 'length not a multiple of 4'],
    ['YWJjZ', 'stray character'],
    ['YW Jj', 'space'],
    ['YW\tJj', 'tab'],
    ['YW-j', 'URL-safe alphabet'],
    ['YW_j', 'URL-safe alphabet'],
    ['YWJj.', 'dot'],
    ['YWJ\u00e9', 'non-ASCII letter'],
    ['\u0000YWJj', 'NUL'],
  ])('rejects %j (%s), which Buffer.from would accept', (input) => {
    expect(decodeBase64Strict(input)).toBeUndefined();
  });

  it('skips CR and LF as Go does (line-wrapped base64)', () => {
    expect(Buffer.from(decodeBase64Strict('YWRt\naW4=\r\n') ?? []).toString()).toBe('admin');
  });

  it('agrees with the reference encoder on every valid input, also with line breaks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 5 }), (bytes, breaks) => {
        let encoded = reference(bytes);
        for (const at of breaks) {
          const i = at % (encoded.length + 1);
          encoded = `${encoded.slice(0, i)}\n${encoded.slice(i)}`;
        }
        expect(decodeBase64Strict(encoded)).toEqual(new Uint8Array(bytes));
      }),
    );
  });

  it('rejects a valid encoding with one character replaced by one outside the alphabet', () => {
    // Replacing keeps the length a multiple of 4, so only the alphabet check can catch it.
    const foreign = fc.constantFrom(' ', '\t', '-', '_', '.', '*', '\u00e9', '\u0000', '"', '\u{1F600}');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), foreign, (bytes, at, ch) => {
        const encoded = reference(bytes);
        const i = at % encoded.length;
        expect(decodeBase64Strict(`${encoded.slice(0, i)}${ch}${encoded.slice(i + 1)}`)).toBeUndefined();
      }),
    );
  });

  it('rejects a valid encoding with padding put before its last two characters', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), (bytes, at) => {
        const encoded = reference(bytes);
        const i = at % (encoded.length - 2);
        expect(decodeBase64Strict(`${encoded.slice(0, i)}=${encoded.slice(i + 1)}`)).toBeUndefined();
      }),
    );
  });

  it('rejects a valid encoding with one character removed or its padding stripped', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), (bytes, at) => {
        const encoded = reference(bytes);
        const i = at % encoded.length;
        expect(decodeBase64Strict(encoded.slice(0, i) + encoded.slice(i + 1))).toBeUndefined();
        if (encoded.endsWith('=')) expect(decodeBase64Strict(encoded.replace(/=+$/, ''))).toBeUndefined();
      }),
    );
  });
});

describe('decodeBase64Utf8', () => {
  it('round-trips any Unicode text, including a leading BOM', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        expect(decodeBase64Utf8(Buffer.from(text, 'utf8').toString('base64'))).toEqual({ ok: true, text });
      }),
    );
    expect(decodeBase64Utf8(Buffer.from('\ufeffpass', 'utf8').toString('base64'))).toEqual({
      ok: true,
      text: '\ufeffpass',
    });
  });

  it('reports utf8 exactly when the bytes are not UTF-8', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const result = decodeBase64Utf8(reference(bytes));
        if (isUtf8(bytes)) expect(result).toEqual({ ok: true, text: Buffer.from(bytes).toString('utf8') });
        else expect(result).toEqual({ ok: false, problem: 'utf8' });
      }),
    );
    expect(decodeBase64Utf8(reference(new Uint8Array([0xc3, 0x28])))).toEqual({ ok: false, problem: 'utf8' });
  });

  it('reports base64 before looking at UTF-8', () => {
    expect(decodeBase64Utf8('czNjcjN0LXBhc3M')).toEqual({ ok: false, problem: 'base64' });
  });
});

describe('encodeBase64Utf8', () => {
  it('encodes the UTF-8 bytes with padding', () => {
    expect(encodeBase64Utf8('admin:s3cr3t-pass')).toBe('YWRtaW46czNjcjN0LXBhc3M=');
    expect(encodeBase64Utf8('\u00e9')).toBe('w6k=');
    expect(encodeBase64Utf8('\u{1F600}')).toBe('8J+YgA==');
  });
});
