/**
 * One linear pass over the bytes of a JSON text, before `JSON.parse` builds anything: how deep do
 * arrays and objects nest, and how many are there? `JSON.parse` allocates an object or array for
 * every `[` and `{`, so a 7 MiB body of brackets would build millions of them (hundreds of MB of heap
 * and a second of blocked event loop). Bounding depth and count bounds what parsing can allocate to
 * a small multiple of the body's size.
 *
 * Bytes, not characters: in UTF-8 every byte of a multi-byte character is >= 0x80, so `"`, `\`,
 * brackets and braces are found exactly. Inside a string, a backslash escapes the next byte; in large
 * bodies strings are skipped with native `indexOf`, and a quote is escaped when an odd number of
 * backslashes precede it.
 * For invalid JSON the scan may see a different structure than a parser would, but only after the
 * point where `JSON.parse` fails, so it never lets a deeper document through.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

export interface JsonShapeLimits {
  /** Deepest nesting of arrays and objects allowed; the top-level object is depth 1. */
  maxDepth: number;
  /** Most arrays and objects allowed in the whole document. */
  maxContainers: number;
}

export type JsonShapeVerdict = { ok: true } | { ok: false; reason: string };

const OK: JsonShapeVerdict = { ok: true };

/** Above this size, strings are skipped with native `indexOf` (a few KB of review: a byte loop is faster). */
const INDEX_OF_FROM_BYTES = 64 * 1024;

/** Checks the limits; stops at the first byte that breaks one. */
export function checkJsonShape(bytes: Uint8Array, limits: JsonShapeLimits): JsonShapeVerdict {
  const { maxDepth, maxContainers } = limits;
  const end = bytes.length;
  const buffer = end >= INDEX_OF_FROM_BYTES ? (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) : undefined;
  let depth = 0;
  let containers = 0;
  let i = 0;
  while (i < end) {
    const byte = bytes[i++] as number;
    // Most bytes outside strings are none of `"[]{}` (all within 0x22-0x7d): one comparison each.
    if (byte < QUOTE || byte > CLOSE_BRACE) continue;
    if (byte === QUOTE) {
      if (buffer) {
        i = endOfString(buffer, i, end);
        continue;
      }
      for (;;) {
        if (i >= end) return OK;
        const inString = bytes[i++] as number;
        if (inString === QUOTE) break;
        if (inString === BACKSLASH) i++;
      }
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      depth++;
      containers++;
      if (depth > maxDepth) return { ok: false, reason: `JSON nested deeper than ${maxDepth} levels` };
      if (containers > maxContainers) return { ok: false, reason: `JSON has more than ${maxContainers} arrays and objects` };
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    }
  }
  return OK;
}

/** Index just past the closing quote of the string whose contents start at `from` (or `end`). */
function endOfString(buffer: Buffer, from: number, end: number): number {
  let at = from;
  for (;;) {
    const quote = buffer.indexOf(QUOTE, at);
    if (quote < 0 || quote >= end) return end;
    let backslashes = 0;
    while (quote - backslashes - 1 >= from && buffer[quote - backslashes - 1] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}
