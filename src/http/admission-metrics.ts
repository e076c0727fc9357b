import type { Counter, Gauge, Histogram } from 'prom-client';
import type { ReviewSummary } from '../admission/webhook.js';
import type { Metrics } from '../metrics/metrics.js';

const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

/**
 * The webhook metrics of one path, with prom-client's labelled children bound once: looking up
 * label values on every request showed up in the load profile. Label values come from small fixed
 * sets only (an unknown operation is "other"), so a crafted body cannot grow the series count.
 */
export class AdmissionMetrics {
  private readonly latency: ReturnType<Histogram<'webhook'>['labels']>;
  private readonly inFlight: ReturnType<Gauge<'webhook'>['labels']>;
  private readonly requests = new Map<string, ReturnType<Counter<string>['labels']>>();

  constructor(
    private readonly metrics: Metrics,
    private readonly webhook: string,
  ) {
    this.latency = metrics.webhookLatency.labels({ webhook });
    this.inFlight = metrics.webhookInFlight.labels({ webhook });
  }

  started(): void {
    this.inFlight.inc();
  }

  finished(latencySeconds: number): void {
    this.inFlight.dec();
    this.latency.observe(latencySeconds);
  }

  answered(summary: ReviewSummary): void {
    const operation = OPERATIONS.has(summary.operation) ? summary.operation : 'other';
    const key = `${operation}|${summary.code}|${summary.allowed}|${summary.patched}|${summary.dryRun}`;
    let child = this.requests.get(key);
    if (!child) {
      child = this.metrics.webhookRequests.labels({
        webhook: this.webhook,
        operation,
        code: String(summary.code),
        allowed: String(summary.allowed),
        mutated: String(summary.patched),
        dry_run: String(summary.dryRun),
      });
      this.requests.set(key, child);
    }
    child.inc();
  }

  rejected(reason: 'deadline' | 'bad_review'): void {
    this.metrics.webhookRejected.inc({ webhook: this.webhook, reason });
  }
}
