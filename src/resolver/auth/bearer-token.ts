/** Reading `Authorization: Bearer <token>` (RFC 6750): the scheme is case-insensitive, the token a token68. */

export type BearerToken = { ok: true; token: string } | { ok: false; reason: string };

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function bearerToken(header: string | undefined): BearerToken {
  if (header === undefined || header.trim() === '') {
    return { ok: false, reason: 'missing bearer token: send "Authorization: Bearer <service account token>"' };
  }
  const match = BEARER.exec(header);
  if (!match?.[1]) return { ok: false, reason: 'malformed Authorization header: expected "Bearer <token>"' };
  return { ok: true, token: match[1] };
}
