import { parseAllowlist } from '../credentials/address-policy.js';
import { LabelSelectorError, parseLabelSelector } from '../propagation/label-selector.js';
import { DEFAULT_SYSTEM_NAMESPACE } from '../registry/labels.js';
import {
  type OptionSpec,
  OptionError,
  byteSize,
  dnsName,
  duration,
  integer,
  namespacedName,
  nonEmpty,
  oneOf,
} from './options.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Everything the server reads from its environment, parsed and validated once at start. */
export interface Config {
  port: number;
  host: string;
  certDir: string;
  probePort: number;
  logLevel: LogLevel;
  logFormat: 'json' | 'pretty';

  /** Self-managed certificates: the Secret that holds CA and serving pair. */
  certSecret: { namespace: string; name: string } | undefined;
  /** Self-managed certificates: the MutatingWebhookConfiguration to inject the caBundle into. */
  webhookConfig: string | undefined;
  serviceName: string;
  podNamespace: string;
  podName: string;
  certPollIntervalMs: number;
  caValidityMs: number;
  certValidityMs: number;
  certCheckIntervalMs: number;

  systemNamespace: string;
  resolverSource: 'auto' | 'kubernetes' | 'directory' | 'off';
  secretsDir: string | undefined;
  resyncPeriodMs: number;
  resolverMaxStalenessMs: number;
  auth: 'auto' | 'on' | 'off';
  authCacheTtlMs: number;
  /** Audiences a caller's token must be valid for (TokenReview spec.audiences); unset: the API server's own. */
  authAudiences: string[] | undefined;
  /** TokenReviews + SubjectAccessReviews started per second on callers' behalf, per replica. */
  authReviewsPerSecond: number;
  /** TokenReviews + SubjectAccessReviews in flight at once, per replica. */
  authReviewsInFlight: number;
  /** PEM CA bundle: when set, the webhook path requires a client certificate signed by it. */
  webhookClientCa: string | undefined;

  propagation: 'auto' | 'on' | 'off';
  propagationExclude: string;
  /** Propagation writes in flight at most (halved while the API server answers 429). */
  propagationConcurrency: number;
  /** Optional ceiling on propagation writes per second; 0: none. */
  propagationWritesPerSecond: number;
  leaseName: string;
  leaseNamespace: string | undefined;
  leaseDurationMs: number;
  leaseRenewDeadlineMs: number;
  leaseRetryPeriodMs: number;

  /** Registry login checks: auto = on in a cluster. */
  credentialCheck: 'auto' | 'on' | 'off';
  credentialCheckIntervalMs: number;
  /** CIDRs, addresses and host names namespace-scoped configs may be checked against despite the SSRF rules. */
  credentialCheckAllow: string[];

  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
  reviewTimeoutMarginMs: number;
  maxEventLoopDelayMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  bodyBudgetBytes: number;
  metrics: 'on' | 'off';
}

type Specs = { [K in keyof Config]: OptionSpec<Config[K]> };

/** Checked at start-up so a typo stops the server with a clear line instead of failing later. */
function labelSelector(text: string): string {
  try {
    parseLabelSelector(nonEmpty(text));
  } catch (err) {
    throw new Error(err instanceof LabelSelectorError ? err.reason : (err as Error).message);
  }
  return text.trim();
}

function audienceList(text: string): string[] {
  const audiences = text.split(',').map((a) => a.trim()).filter((a) => a !== '');
  if (audiences.length === 0) throw new Error('must name at least one audience');
  return audiences;
}

/** Comma-separated; each entry checked now, so a typo stops the server instead of refusing a registry later. */
function allowList(text: string): string[] {
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  parseAllowlist(entries);
  return entries;
}

const optional = <T>(parse: (text: string) => T) => parse as (text: string) => T | undefined;

/** The option table: environment variable, flag, default, meaning. */
export const OPTIONS: Specs = {
  port: { env: 'PORT', flag: '--port', defaultText: '8443', help: 'HTTPS port for admission reviews and the resolver API', parse: integer(0, 65535) },
  host: { env: 'HOST', flag: '--host', defaultText: '0.0.0.0', help: 'address to listen on (both servers)', parse: nonEmpty },
  certDir: { env: 'CERT_DIR', flag: '--cert-dir', defaultText: './certs', help: 'directory with tls.crt, tls.key (and ca.crt); watched and hot-reloaded', parse: nonEmpty },
  probePort: { env: 'PROBE_PORT', flag: '--probe-port', defaultText: '9090', help: 'plain-HTTP port for /healthz, /readyz and /metrics', parse: integer(0, 65535) },
  logLevel: { env: 'LOG_LEVEL', flag: '--log-level', defaultText: 'info', help: LOG_LEVELS.join('|'), parse: oneOf(LOG_LEVELS) },
  logFormat: { env: 'LOG_FORMAT', flag: '--log-format', defaultText: 'json', help: 'json|pretty (pretty is for humans at a terminal)', parse: oneOf(['json', 'pretty'] as const) },

  certSecret: { env: 'CERT_SECRET', flag: '--cert-secret', defaultText: undefined, help: '<namespace>/<name>: self-managed CA and serving certificate kept in this Secret', parse: optional(namespacedName) },
  webhookConfig: { env: 'WEBHOOK_CONFIG', flag: '--webhook-config', defaultText: undefined, help: 'MutatingWebhookConfiguration whose caBundle is kept current (self-managed mode)', parse: optional(dnsName) },
  serviceName: { env: 'SERVICE_NAME', flag: '--service-name', defaultText: 'registry-config-webhook', help: 'Service name; the serving certificate covers its DNS names', parse: dnsName },
  podNamespace: { env: 'POD_NAMESPACE', flag: '--pod-namespace', defaultText: 'the service account namespace, else default', help: 'namespace this pod runs in', parse: dnsName },
  podName: { env: 'POD_NAME', flag: '--pod-name', defaultText: 'the hostname', help: 'identity for leader election and Events', parse: nonEmpty },
  certPollIntervalMs: { env: 'CERT_POLL_INTERVAL', flag: '--cert-poll-interval', defaultText: '10s', help: 'how often CERT_DIR is re-read besides file events', parse: duration(100) },
  caValidityMs: { env: 'CA_VALIDITY', flag: '--ca-validity', defaultText: '10y', help: 'lifetime of a self-managed CA', parse: duration(60_000) },
  certValidityMs: { env: 'CERT_VALIDITY', flag: '--cert-validity', defaultText: '90d', help: 'lifetime of a self-managed serving certificate', parse: duration(60_000) },
  certCheckIntervalMs: { env: 'CERT_CHECK_INTERVAL', flag: '--cert-check-interval', defaultText: '1h', help: 'how often the self-managed Secret and caBundle are checked', parse: duration(1000) },

  systemNamespace: { env: 'SYSTEM_NAMESPACE', flag: '--system-namespace', defaultText: DEFAULT_SYSTEM_NAMESPACE, help: 'namespace of the default and the cluster-wide registry Secrets', parse: dnsName },
  resolverSource: { env: 'RESOLVER_SOURCE', flag: '--resolver-source', defaultText: 'auto', help: 'auto|kubernetes|directory|off (auto: kubernetes when a kubeconfig or in-cluster config exists, else SECRETS_DIR)', parse: oneOf(['auto', 'kubernetes', 'directory', 'off'] as const) },
  secretsDir: { env: 'SECRETS_DIR', flag: '--secrets-dir', defaultText: undefined, help: 'directory of Secret manifests (YAML/JSON) for the local resolver source', parse: optional(nonEmpty) },
  resyncPeriodMs: { env: 'RESYNC_PERIOD', flag: '--resync-period', defaultText: '5m', help: 'full re-list of the resolver and full reconcile of propagation', parse: duration(1000) },
  resolverMaxStalenessMs: { env: 'RESOLVER_MAX_STALENESS', flag: '--resolver-max-staleness', defaultText: '15m', help: '/readyz fails when no watch event or re-list happened for this long', parse: duration(1000) },
  auth: { env: 'AUTH', flag: '--auth', defaultText: 'auto', help: 'auto|on|off: resolver API needs a bearer token (TokenReview + SubjectAccessReview); auto = on whenever the resolver reads a Kubernetes API (in a cluster or through a kubeconfig), off only for the local directory source', parse: oneOf(['auto', 'on', 'off'] as const) },
  authAudiences: { env: 'AUTH_AUDIENCES', flag: '--auth-audiences', defaultText: undefined, help: "comma-separated token audiences callers must present (e.g. registry-config-webhook); unset: the API server's", parse: optional(audienceList) },
  authCacheTtlMs: { env: 'AUTH_CACHE_TTL', flag: '--auth-cache-ttl', defaultText: '10s', help: 'how long TokenReview/SubjectAccessReview decisions are cached', parse: duration(0) },
  authReviewsPerSecond: { env: 'AUTH_REVIEWS_PER_SECOND', flag: '--auth-reviews-per-second', defaultText: '20', help: 'TokenReviews+SubjectAccessReviews per second made for resolver callers; past it: 429 + Retry-After', parse: integer(1, 10_000) },
  authReviewsInFlight: { env: 'AUTH_REVIEWS_IN_FLIGHT', flag: '--auth-reviews-in-flight', defaultText: '10', help: 'TokenReviews+SubjectAccessReviews in flight at once; past it: 429 + Retry-After', parse: integer(1, 10_000) },
  webhookClientCa: { env: 'WEBHOOK_CLIENT_CA', flag: '--webhook-client-ca', defaultText: undefined, help: 'PEM CA bundle file: the webhook path then requires a client certificate signed by it (kube-apiserver via AdmissionConfiguration)', parse: optional(nonEmpty) },

  propagation: { env: 'PROPAGATION', flag: '--propagation', defaultText: 'auto', help: 'auto|on|off: copy the cluster-wide Secret to every namespace (auto = on with the kubernetes source)', parse: oneOf(['auto', 'on', 'off'] as const) },
  propagationExclude: { env: 'PROPAGATION_EXCLUDE', flag: '--propagation-exclude', defaultText: 'kubernetes.io/metadata.name in (kube-system,kube-public,kube-node-lease)', help: 'label selector of namespaces that get no copy', parse: labelSelector },
  propagationConcurrency: { env: 'PROPAGATION_CONCURRENCY', flag: '--propagation-concurrency', defaultText: '16', help: 'propagation writes in flight at most; halved on each burst of 429s from the API server, grown back on success', parse: integer(1, 1000) },
  propagationWritesPerSecond: { env: 'PROPAGATION_WRITES_PER_SECOND', flag: '--propagation-writes-per-second', defaultText: '0', help: 'ceiling on propagation writes per second; 0: none (the API server paces us with 429s)', parse: integer(0, 100_000) },
  leaseName: { env: 'LEASE_NAME', flag: '--lease-name', defaultText: 'registry-config-webhook-propagation', help: 'Lease used for propagation leader election', parse: dnsName },
  leaseNamespace: { env: 'LEASE_NAMESPACE', flag: '--lease-namespace', defaultText: 'POD_NAMESPACE', help: 'namespace of the Lease', parse: optional(dnsName) },
  leaseDurationMs: { env: 'LEASE_DURATION', flag: '--lease-duration', defaultText: '15s', help: 'how long a lease is valid without renewal', parse: duration(1000) },
  leaseRenewDeadlineMs: { env: 'LEASE_RENEW_DEADLINE', flag: '--lease-renew-deadline', defaultText: '10s', help: 'a leader that cannot renew within this gives up', parse: duration(500) },
  leaseRetryPeriodMs: { env: 'LEASE_RETRY_PERIOD', flag: '--lease-retry-period', defaultText: '2s', help: 'interval between acquire/renew attempts', parse: duration(100) },

  credentialCheck: { env: 'CREDENTIAL_CHECK', flag: '--credential-check', defaultText: 'auto', help: 'auto|on|off: check registry Secrets\' credentials against their registry (auto = on in a cluster); see docs/credential-check.md', parse: oneOf(['auto', 'on', 'off'] as const) },
  credentialCheckIntervalMs: { env: 'CREDENTIAL_CHECK_INTERVAL', flag: '--credential-check-interval', defaultText: '10m', help: 'how often every registry config is checked again (besides shortly after each change)', parse: duration(10_000) },
  credentialCheckAllow: { env: 'CREDENTIAL_CHECK_ALLOW', flag: '--credential-check-allow', defaultText: '', help: 'comma-separated CIDRs, addresses and host names (*.domain) namespace-scoped configs may be checked against although private, loopback or link-local', parse: allowList },

  shutdownDelayMs: { env: 'SHUTDOWN_DELAY', flag: '--shutdown-delay', defaultText: '5s', help: 'after SIGTERM: keep serving (not ready) this long so endpoints drop the pod (at most 2m)', parse: duration(0, 120_000) },
  shutdownTimeoutMs: { env: 'SHUTDOWN_TIMEOUT', flag: '--shutdown-timeout', defaultText: '10s', help: 'bound on draining in-flight requests after the delay (at most 5m)', parse: duration(0, 300_000) },
  reviewTimeoutMarginMs: { env: 'REVIEW_TIMEOUT_MARGIN', flag: '--review-timeout-margin', defaultText: '1s', help: "a review's deadline is the API server's ?timeout= minus this", parse: duration(0) },
  maxEventLoopDelayMs: { env: 'MAX_EVENT_LOOP_DELAY', flag: '--max-event-loop-delay', defaultText: '1s', help: 'shed load (503) while the event loop lags more than this; 0 disables', parse: duration(0) },
  headersTimeoutMs: { env: 'HEADERS_TIMEOUT', flag: '--headers-timeout', defaultText: '5s', help: 'HTTPS port: TLS handshake, and request line and headers, must arrive within this (then 408 and close)', parse: duration(1000, 60_000) },
  requestTimeoutMs: { env: 'REQUEST_TIMEOUT', flag: '--request-timeout', defaultText: '10s', help: 'HTTPS port: a whole request (headers and body) must arrive within this (then 408 and close)', parse: duration(1000, 120_000) },
  maxConnections: { env: 'MAX_CONNECTIONS', flag: '--max-connections', defaultText: '1000', help: 'HTTPS port: open connections; at the limit a new one closes the oldest idle one, or is refused', parse: integer(10, 100_000) },
  bodyBudgetBytes: { env: 'BODY_BUDGET', flag: '--body-budget', defaultText: '32Mi', help: 'HTTPS port: bytes of request bodies received at once; a body beyond it gets 503 + Retry-After', parse: byteSize(10 * 1024 ** 2, 4 * 1024 ** 3) },
  metrics: { env: 'METRICS', flag: '--metrics', defaultText: 'on', help: 'on|off: Prometheus metrics on PROBE_PORT /metrics (off only to measure their cost)', parse: oneOf(['on', 'off'] as const) },
};

/** What the environment and command line say before defaults that need the machine (hostname, SA namespace). */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  machine: { hostname: string; serviceAccountNamespace: string | undefined },
): Config {
  const flags = parseFlags(argv);
  const raw = (key: keyof Config): string | undefined => {
    const spec = OPTIONS[key];
    return flags.get(spec.flag) ?? env[spec.env];
  };
  const value = <K extends keyof Config>(key: K, fallback: string | undefined): Config[K] => {
    const spec = OPTIONS[key];
    const text = raw(key) ?? fallback;
    if (text === undefined || text === '') {
      if (fallback === undefined) return undefined as Config[K];
      return spec.parse(fallback);
    }
    try {
      return spec.parse(text);
    } catch (err) {
      const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
      throw new OptionError(spec.env, `invalid ${spec.env} (${spec.flag}) "${shown}": ${(err as Error).message}`);
    }
  };
  // Defaults that depend on the machine; every other default is the table's own.
  const machineDefaults: Partial<Record<keyof Config, string | undefined>> = {
    podNamespace: machine.serviceAccountNamespace ?? 'default',
    podName: machine.hostname,
    leaseNamespace: undefined,
  };
  const entries = (Object.keys(OPTIONS) as (keyof Config)[]).map((key) => [
    key,
    value(key, key in machineDefaults ? machineDefaults[key] : OPTIONS[key].defaultText),
  ]);
  // Each entry was parsed by its own spec in the typed OPTIONS table, so the object is a Config.
  const config = Object.fromEntries(entries) as Config;
  if ((config.certSecret === undefined) !== (config.webhookConfig === undefined)) {
    throw new OptionError('CERT_SECRET', 'CERT_SECRET and WEBHOOK_CONFIG must be set together (self-managed certificates)');
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new OptionError('HEADERS_TIMEOUT', 'invalid HEADERS_TIMEOUT: must not be longer than REQUEST_TIMEOUT');
  }
  if (config.leaseRetryPeriodMs >= config.leaseRenewDeadlineMs) {
    throw new OptionError('LEASE_RETRY_PERIOD', 'invalid LEASE_RETRY_PERIOD: must be shorter than LEASE_RENEW_DEADLINE');
  }
  if (config.leaseRenewDeadlineMs >= config.leaseDurationMs) {
    throw new OptionError('LEASE_RENEW_DEADLINE', 'invalid LEASE_RENEW_DEADLINE: must be shorter than LEASE_DURATION');
  }
  return config;
}

/** `--name value` and `--name=value`; unknown flags are an error naming the flag. */
function parseFlags(argv: readonly string[]): Map<string, string> {
  const known = new Set(Object.values(OPTIONS).map((spec) => spec.flag));
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (!known.has(name)) throw new OptionError(name, `unknown option ${name} (see --help)`);
    if (eq >= 0) {
      flags.set(name, arg.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new OptionError(name, `option ${name} needs a value`);
      flags.set(name, next);
      i++;
    }
  }
  return flags;
}
