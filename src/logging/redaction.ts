/**
 * The one place that decides what never reaches a log line.
 *
 * Secret values travel in `data`, in `stringData`, and in annotations (client-side `kubectl apply`
 * copies the whole manifest, plain-text `stringData` included, into
 * `kubectl.kubernetes.io/last-applied-configuration`). Bearer tokens travel in Authorization
 * headers. We never log objects on purpose, but a stray `log.info({ secret })` or an error that
 * carries a request must not leak either: any field with one of these names is censored, at any
 * depth.
 *
 * Why not pino's path-based `redact`: it needs every path spelled out and its intermediate
 * wildcards cost about a quarter of the server's CPU under load (measured with `npm run bench`).
 * Our log lines are flat, so one pass over their keys is nearly free.
 */
export const SENSITIVE_KEYS: ReadonlySet<string> = new Set([
  'data',
  'stringdata',
  'annotations',
  'password',
  'token',
  'auth',
  'authorization',
  'cookie',
  'tls.key',
  'ca.key',
  'key',
  'body',
  '.dockerconfigjson',
]);

export const REDACT_CENSOR = '[REDACTED]';

/** Deep objects are cut off below this depth rather than walked (logs should be flat anyway). */
const MAX_DEPTH = 6;

/**
 * A copy of `value` with every sensitive field censored; the input is never modified.
 * Returns the same object when nothing needed censoring (the common, flat case: no allocation).
 */
export function redact<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '[TOO DEEP]' as T;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const cleaned = redact(item, depth + 1);
      if (cleaned !== item) {
        copy ??= value.slice();
        copy[i] = cleaned;
      }
    }
    return (copy ?? value) as T;
  }
  if (value instanceof Error) return value;
  let copy: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const item = record[key];
    const cleaned = SENSITIVE_KEYS.has(key.toLowerCase()) ? REDACT_CENSOR : redact(item, depth + 1);
    if (cleaned !== item) {
      copy ??= { ...record };
      copy[key] = cleaned;
    }
  }
  return (copy ?? value) as T;
}
