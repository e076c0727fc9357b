import type { CredentialStatus } from '../registry/registry-config.js';
/**
 * What a credential check found, and what the resolver API shows. Reasons are written by us and
 * carry at most the registry's error code: never a username, password or token.
 */
export type UnreachableCause = 'dns' | 'tcp' | 'tls' | 'timeout' | 'protocol';

export type CheckOutcome =
  /** The registry accepted the login. pushGranted: what the token granted, null when it does not say (Basic, opaque tokens). */
  | { state: 'ok'; pushGranted: boolean | null; reason: string }
  /** 401/403 to the credentials; `code` is the registry's own error code (e.g. UNAUTHORIZED). */
  | { state: 'rejected'; code: string | null; reason: string }
  | { state: 'unreachable'; cause: UnreachableCause; reason: string }
  /** Not checked: why (no credentials, refused by the SSRF rules, checks off, ...). */
  | { state: 'skipped'; reason: string };

// The answer's types live with the resolver's other answer types, which import nothing (the client's).
export type { CredentialState, CredentialStatus } from '../registry/registry-config.js';

export function statusOf(outcome: CheckOutcome, checkedAt: Date | null): CredentialStatus {
  return {
    state: outcome.state,
    pushGranted: outcome.state === 'ok' ? outcome.pushGranted : null,
    checkedAt: checkedAt === null ? null : checkedAt.toISOString(),
    reason: outcome.reason,
  };
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA']);
const TCP_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED', 'EADDRNOTAVAIL']);

/** A Node.js network error to the stage that failed. */
export function unreachableFromError(error: unknown, what: string): CheckOutcome {
  const err = error as NodeJS.ErrnoException & { library?: string };
  const code = typeof err?.code === 'string' ? err.code : '';
  if (err?.name === 'CheckTimeoutError') return { state: 'unreachable', cause: 'timeout', reason: `${what}: no answer within ${(err as { timeoutMs?: number }).timeoutMs ?? '?'} ms` };
  if (DNS_CODES.has(code)) return { state: 'unreachable', cause: 'dns', reason: `${what}: DNS look-up failed (${code})` };
  if (TCP_CODES.has(code)) return { state: 'unreachable', cause: 'tcp', reason: `${what}: connection failed (${code})` };
  if (isTlsError(code, err)) return { state: 'unreachable', cause: 'tls', reason: `${what}: TLS failed (${code || 'handshake'})` };
  return { state: 'unreachable', cause: 'protocol', reason: `${what}: ${code || 'request failed'}` };
}

function isTlsError(code: string, err: { library?: string; message?: string }): boolean {
  return (
    code.startsWith('ERR_SSL') ||
    code.startsWith('ERR_TLS') ||
    code.includes('CERT') ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' ||
    code === 'EPROTO' ||
    err.library === 'SSL routines'
  );
}

/** The first error code of a registry's `{"errors":[{"code":...}]}` body, if it is one. Codes only: messages may echo input. */
export function registryErrorCode(body: Buffer): string | null {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    const errors = (parsed as { errors?: unknown })?.errors;
    const code = Array.isArray(errors) ? (errors[0] as { code?: unknown } | undefined)?.code : undefined;
    return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : null;
  } catch {
    return null;
  }
}
