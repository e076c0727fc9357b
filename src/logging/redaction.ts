/**
 * The one place that decides what never reaches a log line.
 *
 * Secret values travel in `data`, in `stringData`, and in annotations (client-side `kubectl apply`
 * copies the whole manifest, plain-text `stringData` included, into
 * `kubectl.kubernetes.io/last-applied-configuration`). Bearer tokens travel in Authorization
 * headers. We never log objects on purpose, but a stray `log.info({ secret })` or an error that
 * carries a request must not leak either: these paths are censored wherever they appear, at the
 * top level and one or two levels down (pino's redaction needs explicit paths; `*` is one level).
 */
const SENSITIVE_LEAVES = [
  'data',
  'stringData',
  'annotations',
  'password',
  'token',
  'auth',
  'authorization',
  'Authorization',
  'cookie',
  '"tls.key"',
  '"ca.key"',
  'key',
  'body',
];

function sensitivePaths(): string[] {
  const paths: string[] = [];
  for (const leaf of SENSITIVE_LEAVES) {
    paths.push(leaf, `*.${leaf}`, `*.*.${leaf}`, `*.*.*.${leaf}`);
  }
  paths.push('req.headers.authorization', 'req.headers.cookie', 'headers.authorization');
  return paths;
}

export const REDACT_CENSOR = '[REDACTED]';

/** pino `redact` option. */
export const redaction = { paths: sensitivePaths(), censor: REDACT_CENSOR } as const;
