import { parseDuration } from '../config/duration.js';

/**
 * The API server appends `?timeout=<Go duration>` (its timeoutSeconds, e.g. `10s`; Go prints a
 * minute or more as `1m0s`) to every call. Returns milliseconds, or undefined when absent or not
 * understood (then a default applies).
 */
export function parseTimeoutParameter(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = parseDuration(value);
  return ms !== undefined && ms > 0 ? ms : undefined;
}
