import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric the server exports, created once on one Registry.
 *
 * Three webhook metrics carry controller-runtime's exact names, labels and buckets
 * (`controller_runtime_webhook_*`), so dashboards and alerts written for controller-runtime webhooks
 * apply. Everything else carries this application's prefix (`registry_config_webhook_`), so no name
 * can collide with another exporter's. No label ever carries a Secret value, a Secret name or a user-chosen data key: label values are
 * drawn from small fixed sets (operation, code, true/false, result).
 */
export interface Metrics {
  readonly registry: Registry;
  /** controller-runtime's `controller_runtime_webhook_requests_total{webhook,code}`. */
  readonly webhookRequests: Counter<'webhook' | 'code'>;
  /** Our richer count of answered reviews. */
  readonly admissionReviews: Counter<'webhook' | 'operation' | 'code' | 'allowed' | 'mutated' | 'dry_run'>;
  readonly webhookLatency: Histogram<'webhook'>;
  readonly webhookInFlight: Gauge<'webhook'>;
  readonly webhookRejected: Counter<'webhook' | 'reason'>;
  readonly certificateExpiry: Gauge<'certificate'>;
  readonly certificateReloads: Counter<'result'>;
  /** 1 while every entry's caBundle of the webhook configuration trusts the served certificate (self-managed mode). */
  readonly certificateCaInBundle: Gauge<'configuration'>;
  readonly resolverIndexSecrets: Gauge;
  readonly resolverIndexNamespaces: Gauge;
  readonly resolverWatchRestarts: Counter<'reason'>;
  readonly resolverLastEventTimestamp: Gauge;
  /** RESOLVER_MAX_STALENESS in seconds while the Kubernetes source runs (0 otherwise), for the staleness alert. */
  readonly resolverMaxStaleness: Gauge;
  readonly propagationCopies: Gauge;
  readonly propagationWrites: Counter<'verb'>;
  readonly propagationErrors: Counter;
  readonly propagationQueueDepth: Gauge;
  readonly propagationWriteDuration: Histogram<'verb'>;
  readonly propagationThrottled: Counter<'verb'>;
  readonly propagationWriteConcurrency: Gauge;
  readonly leaderElectionIsLeader: Gauge;
  readonly authLocalRejections: Counter<'reason'>;
  readonly authReviews: Counter<'kind' | 'result'>;
  readonly authBudgetRefusals: Counter<'reason'>;
  readonly authKeyRefreshes: Counter<'result'>;
  readonly credentialCheckConfigs: Gauge<'state'>;
  readonly credentialCheckAttempts: Counter<'outcome'>;
  readonly credentialCheckDuration: Histogram;
  /** Requests and connections the HTTPS port refused or cut to stay within its limits (src/http/limits.ts). */
  readonly httpLimitRejections: Counter<'reason'>;
  /**
   * Registers a callback run at every scrape, before the webhook metrics are read. The admission
   * hot path counts in plain numbers and copies them in here: prom-client hashes and validates
   * every label set on every call, which showed up in the load profile.
   */
  onScrape(publish: () => void): void;
}

/**
 * controller-runtime's webhook latency histogram uses the Prometheus client's default buckets
 * (Go's `prometheus.DefBuckets`); the same buckets keep its dashboards' quantiles comparable.
 */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The prefix of every metric of this application (controller-runtime's names excepted). */
export const METRIC_PREFIX = 'registry_config_webhook_';

export interface MetricsOptions {
  /** Default Node.js process metrics (CPU, memory, event loop lag, GC). On in production. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const publishers = new Set<() => void>();
  // Idempotent publishers: running them for each of the metrics they feed is harmless.
  const collect = () => {
    for (const publish of publishers) publish();
  };
  return {
    onScrape(publish) {
      publishers.add(publish);
    },
    registry,
    webhookRequests: new Counter({
      name: 'controller_runtime_webhook_requests_total',
      help: 'Total number of admission requests by HTTP status code.',
      labelNames: ['webhook', 'code'],
      registers,
      collect,
    }),
    admissionReviews: new Counter({
      name: `${METRIC_PREFIX}admission_reviews_total`,
      help: 'Admission reviews answered, by webhook path, operation, HTTP code, decision, patch and dry run.',
      labelNames: ['webhook', 'operation', 'code', 'allowed', 'mutated', 'dry_run'],
      registers,
      collect,
    }),
    webhookLatency: new Histogram({
      name: 'controller_runtime_webhook_latency_seconds',
      help: 'Histogram of the latency of processing admission requests',
      labelNames: ['webhook'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    webhookInFlight: new Gauge({
      name: 'controller_runtime_webhook_requests_in_flight',
      help: 'Current number of admission requests being served.',
      labelNames: ['webhook'],
      registers,
      collect,
    }),
    webhookRejected: new Counter({
      name: `${METRIC_PREFIX}requests_rejected_total`,
      help: 'Requests to a webhook path answered with a 4xx/503 before any admission decision (bad body, overload, deadline).',
      labelNames: ['webhook', 'reason'],
      registers,
    }),
    certificateExpiry: new Gauge({
      name: `${METRIC_PREFIX}certificate_expiry_timestamp_seconds`,
      help: 'Unix time at which the certificate expires (certificate="serving"|"ca").',
      labelNames: ['certificate'],
      registers,
    }),
    certificateReloads: new Counter({
      name: `${METRIC_PREFIX}certificate_reloads_total`,
      help: 'Attempts to load a new serving certificate, by result (success|failure).',
      labelNames: ['result'],
      registers,
    }),
    certificateCaInBundle: new Gauge({
      name: `${METRIC_PREFIX}certificate_ca_in_bundle`,
      help: '1 while every caBundle of the MutatingWebhookConfiguration holds the CA that issued the served certificate, else 0 (self-managed mode only).',
      labelNames: ['configuration'],
      registers,
      collect,
    }),
    resolverIndexSecrets: new Gauge({
      name: `${METRIC_PREFIX}resolver_index_secrets`,
      help: 'Registry Secrets held in the resolver index.',
      registers,
    }),
    resolverIndexNamespaces: new Gauge({
      name: `${METRIC_PREFIX}resolver_index_namespaces`,
      help: 'Namespaces with a namespace-scoped registry Secret in the resolver index.',
      registers,
    }),
    resolverWatchRestarts: new Counter({
      name: `${METRIC_PREFIX}resolver_watch_restarts_total`,
      help: 'Times the resolver re-listed or re-opened its watch, by reason (gone|error|timeout|resync).',
      labelNames: ['reason'],
      registers,
    }),
    resolverLastEventTimestamp: new Gauge({
      name: `${METRIC_PREFIX}resolver_last_event_timestamp_seconds`,
      help: 'Unix time of the last watch event or successful list seen by the resolver (age = time() - this).',
      registers,
    }),
    resolverMaxStaleness: new Gauge({
      name: `${METRIC_PREFIX}resolver_max_staleness_seconds`,
      help: 'RESOLVER_MAX_STALENESS: /readyz fails when the index saw no event or re-list for this long (0 when the Kubernetes source is off).',
      registers,
    }),
    propagationCopies: new Gauge({
      name: `${METRIC_PREFIX}propagation_copies_managed`,
      help: 'Copies of the cluster-wide registry Secret the propagation controller keeps.',
      registers,
    }),
    propagationWrites: new Counter({
      name: `${METRIC_PREFIX}propagation_writes_total`,
      help: 'Writes made by the propagation controller, by verb (create|update|delete).',
      labelNames: ['verb'],
      registers,
    }),
    propagationErrors: new Counter({
      name: `${METRIC_PREFIX}propagation_reconcile_errors_total`,
      help: 'Namespace reconciles that failed and were requeued with backoff.',
      registers,
    }),
    propagationQueueDepth: new Gauge({
      name: `${METRIC_PREFIX}propagation_queue_depth`,
      help: 'Namespaces waiting to be reconciled.',
      registers,
    }),
    propagationWriteDuration: new Histogram({
      name: 'registry_config_webhook_propagation_write_duration_seconds',
      help: 'Time the API server took to answer a propagation write (any answer, 429s included), by verb (create|update|delete|patch).',
      labelNames: ['verb'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    propagationThrottled: new Counter({
      name: 'registry_config_webhook_propagation_throttled_total',
      help: 'Propagation writes the API server turned away with 429 Too Many Requests (API Priority and Fairness), by verb.',
      labelNames: ['verb'],
      registers,
    }),
    propagationWriteConcurrency: new Gauge({
      name: 'registry_config_webhook_propagation_write_concurrency',
      help: 'Propagation writes currently allowed in flight: PROPAGATION_CONCURRENCY, halved on each burst of 429s, growing back on success.',
      registers,
    }),
    leaderElectionIsLeader: new Gauge({
      name: `${METRIC_PREFIX}propagation_is_leader`,
      help: '1 while this replica holds the propagation leader lease, else 0.',
      registers,
    }),
    authLocalRejections: new Counter({
      name: 'registry_config_webhook_auth_local_rejections_total',
      help: 'Resolver bearer tokens refused without any API call, by reason (missing|malformed-header|too-large|not-a-jwt|bad-header|algorithm-not-allowed|no-key-id|unknown-key|bad-signature|wrong-issuer|expired|not-yet-valid|wrong-audience|bad-claims).',
      labelNames: ['reason'],
      registers,
    }),
    authReviews: new Counter({
      name: 'registry_config_webhook_auth_reviews_total',
      help: "API calls made on resolver callers' behalf, by kind (token_review|subject_access_review) and result (authenticated|unauthenticated|allowed|denied|throttled|error).",
      labelNames: ['kind', 'result'],
      registers,
    }),
    authBudgetRefusals: new Counter({
      name: 'registry_config_webhook_auth_budget_refusals_total',
      help: 'Resolver requests answered 429 because the review budget was spent, by reason (rate|in-flight|apiserver-throttled).',
      labelNames: ['reason'],
      registers,
    }),
    authKeyRefreshes: new Counter({
      name: 'registry_config_webhook_auth_key_refreshes_total',
      help: 'Reads of the service-account issuer discovery and key set, by result (success|failure).',
      labelNames: ['result'],
      registers,
    }),
    credentialCheckConfigs: new Gauge({
      name: 'registry_config_webhook_credential_check_configs',
      help: 'Registry configs by the state of their last credential check (ok|rejected|unreachable|skipped|pending), as seen by this replica.',
      labelNames: ['state'],
      registers,
      collect,
    }),
    credentialCheckAttempts: new Counter({
      name: 'registry_config_webhook_credential_check_attempts_total',
      help: 'Registry login checks made by this replica, by outcome (ok|rejected|unreachable|skipped).',
      labelNames: ['outcome'],
      registers,
    }),
    credentialCheckDuration: new Histogram({
      name: 'registry_config_webhook_credential_check_duration_seconds',
      help: 'Time one registry login check took (all its requests).',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
      registers,
    }),
    httpLimitRejections: new Counter({
      name: 'registry_config_webhook_http_limit_rejections_total',
      help: 'Requests and connections on the HTTPS port refused or closed by a limit. reason: body_budget, body_too_large, request_timeout, headers_too_large, malformed, connection_evicted_idle, connection_refused.',
      labelNames: ['reason'],
      registers,
    }),
  };
}
