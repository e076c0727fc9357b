/**
 * "Too many requests" from the API server. client-node 1.4.0 throws an ApiException with
 * `code: 429`, `headers` (a plain object, lower-case names, from fetch's Headers) and `body`
 * (text). API Priority and Fairness answers text/plain, not a Status, with `Retry-After` in whole
 * seconds (test/fixtures/apiserver-http/apf-429-*.json); other 429s (e.g. the max-in-flight
 * filter) may carry a Status with `details.retryAfterSeconds`.
 */
import { apiErrorInfo } from './api-status.js';

/** Used when a 429 says nothing about when to come back. */
export const DEFAULT_RETRY_AFTER_MS = 1000;
/** A bound on what we believe: APF doubles up to 32 s; anything far beyond is a broken header. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** The wait a 429 asks for, in ms; undefined when `err` is not a 429. */
export function retryAfterOf429(err: unknown): number | undefined {
  if (apiErrorInfo(err).code !== 429) return undefined;
  const e = err as { headers?: unknown; body?: unknown };
  const seconds = headerSeconds(e.headers) ?? statusSeconds(e.body);
  if (seconds === undefined) return DEFAULT_RETRY_AFTER_MS;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(DEFAULT_RETRY_AFTER_MS, seconds * 1000));
}

function headerSeconds(headers: unknown): number | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (name.toLowerCase() === 'retry-after' && typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  }
  return undefined;
}

function statusSeconds(body: unknown): number | undefined {
  let status = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  const seconds = (status as { details?: { retryAfterSeconds?: unknown } } | null)?.details?.retryAfterSeconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** A write the API server turned away with 429: nothing was written; retry after `retryAfterMs`. */
export class ThrottledError extends Error {
  /** As an ApiException would say, so apiErrorInfo() reads it. */
  readonly code = 429;

  constructor(readonly retryAfterMs: number) {
    super(`HTTP 429 Too Many Requests: retry after ${Math.round(retryAfterMs / 1000)} s`);
    this.name = 'ThrottledError';
  }
}
