/**
 * Base64 as Kubernetes stores Secret `data`: Go's `base64.StdEncoding` (standard alphabet,
 * `=` padding required). Node's `Buffer.from(s, 'base64')` silently skips invalid characters
 * and accepts missing padding, so the shape is validated here before decoding.
 */

export type Base64Utf8Result = { ok: true; text: string } | { ok: false; problem: 'base64' | 'utf8' };

/** Standard alphabet, whole quanta, padding only at the end (length is checked separately). */
const STD_BASE64 = /^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Go's decoder skips CR and LF anywhere in the input; nothing else. */
const IGNORED_NEWLINES = /[\r\n]/g;

/** Bytes of `value`, or undefined when Go's StdEncoding would reject it. */
export function decodeBase64Strict(value: string): Uint8Array | undefined {
  const compact = value.replace(IGNORED_NEWLINES, '');
  if (compact.length % 4 !== 0 || !STD_BASE64.test(compact)) return undefined;
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading BOM is content, kept as is.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict base64, then strict UTF-8: the text a Secret value holds, or why it holds none. */
export function decodeBase64Utf8(value: string): Base64Utf8Result {
  const bytes = decodeBase64Strict(value);
  if (bytes === undefined) return { ok: false, problem: 'base64' };
  try {
    return { ok: true, text: utf8Decoder.decode(bytes) };
  } catch {
    return { ok: false, problem: 'utf8' };
  }
}

/** Standard base64 (with padding) of the UTF-8 bytes of `text`. */
export function encodeBase64Utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
