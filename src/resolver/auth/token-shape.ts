/**
 * The cheapest check of a bearer token, made before anything costs: a ServiceAccount token is a
 * signed JWT (three base64url parts, a JSON header naming an asymmetric `alg` and the signing
 * key's `kid`). Anything else cannot be one and is refused without asking the API server.
 */

/** Asymmetric JWS algorithms only: `none` and the HMAC family (HS*) never verify a ServiceAccount token. */
export const ALLOWED_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
export type TokenAlgorithm = (typeof ALLOWED_TOKEN_ALGORITHMS)[number];

/** Real ServiceAccount tokens are about 1 KiB (1.5 KiB with bound Pod and Node claims). */
export const MAX_TOKEN_BYTES = 8 * 1024;
const MAX_HEADER_BYTES = 1024;

export type TokenShapeRejection = 'too-large' | 'not-a-jwt' | 'bad-header' | 'algorithm-not-allowed' | 'no-key-id';

export type TokenShape =
  | { ok: true; algorithm: TokenAlgorithm; keyId: string }
  | { ok: false; reason: TokenShapeRejection };

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function checkTokenShape(token: string): TokenShape {
  if (token.length > MAX_TOKEN_BYTES) return { ok: false, reason: 'too-large' };
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => part.length > 0 && BASE64URL.test(part))) return { ok: false, reason: 'not-a-jwt' };
  const encodedHeader = parts[0] ?? '';
  if (encodedHeader.length > MAX_HEADER_BYTES) return { ok: false, reason: 'bad-header' };
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'bad-header' };
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return { ok: false, reason: 'bad-header' };
  const { alg, kid } = header as { alg?: unknown; kid?: unknown };
  if (typeof alg !== 'string' || !(ALLOWED_TOKEN_ALGORITHMS as readonly string[]).includes(alg)) return { ok: false, reason: 'algorithm-not-allowed' };
  if (typeof kid !== 'string' || kid === '' || kid.length > 256) return { ok: false, reason: 'no-key-id' };
  return { ok: true, algorithm: alg as TokenAlgorithm, keyId: kid };
}
