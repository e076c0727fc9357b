import type { Histogram } from 'prom-client';
import type { ReviewSummary } from '../admission/webhook.js';
import type { Metrics } from '../metrics/metrics.js';

const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

type RequestLabels = Record<'webhook' | 'operation' | 'code' | 'allowed' | 'mutated' | 'dry_run', string>;

/**
 * The webhook metrics of one path. Reviews are counted in plain numbers and copied into
 * prom-client at scrape time (`Metrics.onScrape`): prom-client hashes and validates the labels on
 * every `inc`, about a microsecond per review for the six-label counter. Label values come from
 * small fixed sets only (an unknown operation is "other"), so a crafted body cannot grow the
 * series count.
 */
export class AdmissionMetrics {
  private readonly latency: ReturnType<Histogram<'webhook'>['labels']>;
  private inFlight = 0;
  private readonly answeredCounts = new Map<string, { labels: RequestLabels; count: number; published: number }>();
  /** Requests by HTTP status code, as controller-runtime counts them (reviews and rejections alike). */
  private readonly codeCounts = new Map<string, { count: number; published: number }>();

  constructor(
    private readonly metrics: Metrics,
    private readonly webhook: string,
  ) {
    this.latency = metrics.webhookLatency.labels({ webhook });
    metrics.onScrape(() => this.publish());
  }

  started(): void {
    this.inFlight++;
  }

  finished(latencySeconds: number): void {
    this.inFlight--;
    this.latency.observe(latencySeconds);
  }

  answered(summary: ReviewSummary): void {
    this.countCode(summary.code);
    const operation = OPERATIONS.has(summary.operation) ? summary.operation : 'other';
    const key = `${operation}|${summary.code}|${summary.allowed}|${summary.patched}|${summary.dryRun}`;
    const entry = this.answeredCounts.get(key);
    if (entry) {
      entry.count++;
      return;
    }
    const labels: RequestLabels = {
      webhook: this.webhook,
      operation,
      code: String(summary.code),
      allowed: String(summary.allowed),
      mutated: String(summary.patched),
      dry_run: String(summary.dryRun),
    };
    this.answeredCounts.set(key, { labels, count: 1, published: 0 });
  }

  rejected(reason: 'deadline' | 'bad_review', httpCode: number): void {
    this.countCode(httpCode);
    this.metrics.webhookRejected.inc({ webhook: this.webhook, reason });
  }

  private countCode(code: number): void {
    const key = String(code);
    const entry = this.codeCounts.get(key);
    if (entry) entry.count++;
    else this.codeCounts.set(key, { count: 1, published: 0 });
  }

  /** Copies the plain counts into prom-client; only what is new since the last scrape is added. */
  private publish(): void {
    this.metrics.webhookInFlight.set({ webhook: this.webhook }, this.inFlight);
    for (const entry of this.answeredCounts.values()) {
      if (entry.count === entry.published) continue;
      this.metrics.admissionReviews.inc(entry.labels, entry.count - entry.published);
      entry.published = entry.count;
    }
    for (const [code, entry] of this.codeCounts) {
      if (entry.count === entry.published) continue;
      this.metrics.webhookRequests.inc({ webhook: this.webhook, code }, entry.count - entry.published);
      entry.published = entry.count;
    }
  }
}
