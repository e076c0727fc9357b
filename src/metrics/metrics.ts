import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric the server exports, created once on one Registry.
 *
 * Webhook metrics are named like controller-runtime's so existing dashboards and alerts apply.
 * No label ever carries a Secret value, a Secret name or a user-chosen data key: label values are
 * drawn from small fixed sets (operation, code, true/false, result).
 */
export interface Metrics {
  readonly registry: Registry;
  readonly webhookRequests: Counter<'webhook' | 'operation' | 'code' | 'allowed' | 'mutated' | 'dry_run'>;
  readonly webhookLatency: Histogram<'webhook'>;
  readonly webhookInFlight: Gauge<'webhook'>;
  readonly webhookRejected: Counter<'webhook' | 'reason'>;
  readonly certificateExpiry: Gauge<'certificate'>;
  readonly certificateReloads: Counter<'result'>;
  readonly resolverIndexSecrets: Gauge;
  readonly resolverIndexNamespaces: Gauge;
  readonly resolverWatchRestarts: Counter<'reason'>;
  readonly resolverLastEventTimestamp: Gauge;
  readonly propagationCopies: Gauge;
  readonly propagationWrites: Counter<'verb'>;
  readonly propagationErrors: Counter;
  readonly propagationQueueDepth: Gauge;
  readonly leaderElectionIsLeader: Gauge;
  /** Requests and connections the HTTPS port refused or cut to stay within its limits (src/http/limits.ts). */
  readonly httpLimitRejections: Counter<'reason'>;
  /**
   * Registers a callback run at every scrape, before the webhook metrics are read. The admission
   * hot path counts in plain numbers and copies them in here: prom-client hashes and validates
   * every label set on every call, which showed up in the load profile.
   */
  onScrape(publish: () => void): void;
}

/** Histogram buckets: from 0.5 ms up to 15 s (beyond the 10 s maximum webhook timeout). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];

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
      name: 'webhook_requests_total',
      help: 'Admission reviews answered, by webhook path, operation, HTTP code, decision, patch and dry run.',
      labelNames: ['webhook', 'operation', 'code', 'allowed', 'mutated', 'dry_run'],
      registers,
      collect,
    }),
    webhookLatency: new Histogram({
      name: 'webhook_latency_seconds',
      help: 'Time from receiving an admission review to sending its answer.',
      labelNames: ['webhook'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    webhookInFlight: new Gauge({
      name: 'webhook_requests_in_flight',
      help: 'Admission reviews being handled right now.',
      labelNames: ['webhook'],
      registers,
      collect,
    }),
    webhookRejected: new Counter({
      name: 'webhook_requests_rejected_total',
      help: 'Requests to a webhook path answered with a 4xx/503 before any admission decision (bad body, overload, deadline).',
      labelNames: ['webhook', 'reason'],
      registers,
    }),
    certificateExpiry: new Gauge({
      name: 'certificate_expiry_timestamp_seconds',
      help: 'Unix time at which the certificate expires (certificate="serving"|"ca").',
      labelNames: ['certificate'],
      registers,
    }),
    certificateReloads: new Counter({
      name: 'certificate_reload_total',
      help: 'Attempts to load a new serving certificate, by result (success|failure).',
      labelNames: ['result'],
      registers,
    }),
    resolverIndexSecrets: new Gauge({
      name: 'resolver_index_secrets',
      help: 'Registry Secrets held in the resolver index.',
      registers,
    }),
    resolverIndexNamespaces: new Gauge({
      name: 'resolver_index_namespaces',
      help: 'Namespaces with a namespace-scoped registry Secret in the resolver index.',
      registers,
    }),
    resolverWatchRestarts: new Counter({
      name: 'resolver_watch_restarts_total',
      help: 'Times the resolver re-listed or re-opened its watch, by reason (gone|error|timeout|resync).',
      labelNames: ['reason'],
      registers,
    }),
    resolverLastEventTimestamp: new Gauge({
      name: 'resolver_last_event_timestamp_seconds',
      help: 'Unix time of the last watch event or successful list seen by the resolver (age = time() - this).',
      registers,
    }),
    propagationCopies: new Gauge({
      name: 'propagation_copies_managed',
      help: 'Copies of the cluster-wide registry Secret the propagation controller keeps.',
      registers,
    }),
    propagationWrites: new Counter({
      name: 'propagation_writes_total',
      help: 'Writes made by the propagation controller, by verb (create|update|delete).',
      labelNames: ['verb'],
      registers,
    }),
    propagationErrors: new Counter({
      name: 'propagation_reconcile_errors_total',
      help: 'Namespace reconciles that failed and were requeued with backoff.',
      registers,
    }),
    propagationQueueDepth: new Gauge({
      name: 'propagation_queue_depth',
      help: 'Namespaces waiting to be reconciled.',
      registers,
    }),
    leaderElectionIsLeader: new Gauge({
      name: 'leader_election_master_status',
      help: '1 while this replica holds the propagation leader lease, else 0.',
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
