/**
 * The HTTP code and Status reason of a failed client-node call. An ApiException's message embeds
 * the whole response body and headers: never log it; log `describeApiError` instead.
 */

export interface ApiErrorInfo {
  /** HTTP status, undefined for network errors and timeouts. */
  code: number | undefined;
  /** The Status `reason` (NotFound, AlreadyExists, Conflict, Forbidden, Invalid, ...). */
  reason: string | undefined;
  /** The Status `message`, truncated. */
  message: string | undefined;
}

export function apiErrorInfo(err: unknown): ApiErrorInfo {
  if (typeof err !== 'object' || err === null) return { code: undefined, reason: undefined, message: undefined };
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; name?: unknown; message?: unknown };
  const code = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  let reason: string | undefined;
  let message: string | undefined;
  const body = typeof e.body === 'string' ? safeParse(e.body) : e.body;
  if (typeof body === 'object' && body !== null) {
    const status = body as { reason?: unknown; message?: unknown };
    if (typeof status.reason === 'string') reason = status.reason;
    if (typeof status.message === 'string') message = status.message.slice(0, 300);
  }
  if (code === undefined && message === undefined) {
    // A network error or an abort (timeout): its own message carries no body.
    const first = typeof e.message === 'string' ? e.message.split('\n')[0] : undefined;
    message = first?.slice(0, 200) ?? (typeof e.name === 'string' ? e.name : 'unknown error');
  }
  return { code, reason, message };
}

export function isNotFound(err: unknown): boolean {
  return apiErrorInfo(err).code === 404;
}

export function isConflict(err: unknown): boolean {
  return apiErrorInfo(err).code === 409;
}

/** `HTTP 409 Conflict: Operation cannot be fulfilled ...` or the network error's first line. */
export function describeApiError(err: unknown): string {
  const { code, reason, message } = apiErrorInfo(err);
  if (code === undefined) return message ?? 'unknown error';
  return `HTTP ${code}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
