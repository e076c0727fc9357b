import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY_WEBHOOK_PATH } from '../../src/http/webhook-server.js';
import type { RunningServer } from '../../src/server.js';
import { postReview } from '../support/https-client.js';
import { readAdmissionFixture } from '../support/fixtures.js';
import { startTestServer } from '../support/server.js';
import { createMetrics } from '../../src/metrics/metrics.js';

describe('Prometheus metrics on the probe port', () => {
  let server: RunningServer;
  let ca: string;
  let exposition: string;
  beforeAll(async () => {
    ({ server, ca } = await startTestServer({ SHUTDOWN_DELAY: '0' }));
    const url = `https://localhost:${server.webhookPort}${REGISTRY_WEBHOOK_PATH}?timeout=10s`;
    for (const file of ['create-dockerconfigjson-data.v1.json', 'create-dockerconfigjson-data.v1beta1.json', 'create-missing-password.v1.json', 'delete.v1.json', 'create-dryrun.v1.json']) {
      expect((await postReview(url, JSON.stringify(readAdmissionFixture(file)), ca)).status).toBe(200);
    }
    expect((await postReview(url, 'not json', ca)).status).toBe(400);
    expect((await postReview(url, JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} }), ca)).status).toBe(400);
    const res = await fetch(`http://127.0.0.1:${server.probePort}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    exposition = await res.text();
  });
  afterAll(async () => {
    await server.shutdown('test end');
  });

  const sample = (name: string, labels: Record<string, string>): number | undefined => {
    const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    for (const line of exposition.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      if (wanted.every((w) => line.includes(w))) return Number(line.split(' ').pop());
    }
    return undefined;
  };

  it("counts requests by HTTP code under controller-runtime's name, malformed reviews included", () => {
    const webhook = REGISTRY_WEBHOOK_PATH;
    // As controller-runtime: the code is the review's result code (a denial is 400), plus the HTTP code of a
    // malformed review; unparsable JSON never reaches the route.
    expect(sample('controller_runtime_webhook_requests_total', { webhook, code: '200' })).toBe(4);
    expect(sample('controller_runtime_webhook_requests_total', { webhook, code: '400' })).toBe(2);
  });

  it('counts reviews by operation, code, decision, mutation and dry run', () => {
    const webhook = REGISTRY_WEBHOOK_PATH;
    expect(sample('registry_config_webhook_admission_reviews_total', { webhook, operation: 'CREATE', code: '200', allowed: 'true', mutated: 'true', dry_run: 'false' })).toBe(2);
    expect(sample('registry_config_webhook_admission_reviews_total', { webhook, operation: 'CREATE', code: '400', allowed: 'false', mutated: 'false', dry_run: 'false' })).toBe(1);
    expect(sample('registry_config_webhook_admission_reviews_total', { webhook, operation: 'DELETE', code: '200', allowed: 'true', mutated: 'false' })).toBe(1);
    expect(sample('registry_config_webhook_admission_reviews_total', { webhook, operation: 'CREATE', dry_run: 'true', mutated: 'true' })).toBe(1);
    expect(sample('registry_config_webhook_requests_rejected_total', { webhook, reason: 'bad_review' })).toBe(1);
  });

  it("has controller-runtime's latency histogram (Prometheus' default buckets) and in-flight gauge", () => {
    expect(sample('controller_runtime_webhook_latency_seconds_bucket', { le: '0.005' })).toBeDefined();
    // Five decided reviews and one malformed review reached the route; unparsable JSON did not.
    expect(sample('controller_runtime_webhook_latency_seconds_bucket', { le: '10' })).toBe(6);
    expect(sample('controller_runtime_webhook_latency_seconds_count', { webhook: REGISTRY_WEBHOOK_PATH })).toBe(6);
    expect(sample('controller_runtime_webhook_requests_in_flight', { webhook: REGISTRY_WEBHOOK_PATH })).toBe(0);
  });

  it('exports the serving certificate expiry as a timestamp in the future', () => {
    const expiry = sample('registry_config_webhook_certificate_expiry_timestamp_seconds', { certificate: 'serving' });
    expect(expiry).toBeGreaterThan(Date.now() / 1000);
  });

  it('carries no Secret name, namespace or user key in any label', () => {
    expect(exposition).not.toContain('serverless-registry-config');
    expect(exposition).not.toContain('namespace="default"');
    expect(exposition).not.toMatch(/username|password|registryAddress/);
  });
});

describe('metric names', () => {
  // controller-runtime's pkg/webhook/internal/metrics: names, help, label names, and Go's
  // prometheus.DefBuckets for the latency histogram. Written out here, not read from our code.
  const CONTROLLER_RUNTIME = {
    controller_runtime_webhook_requests_total: { type: 'counter', labels: ['webhook', 'code'] },
    controller_runtime_webhook_latency_seconds: { type: 'histogram', labels: ['webhook'] },
    controller_runtime_webhook_requests_in_flight: { type: 'gauge', labels: ['webhook'] },
  } as const;
  const GO_DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

  it("exports controller-runtime's webhook metrics with its labels and buckets", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const json = await metrics.registry.getMetricsAsJSON();
    for (const [name, want] of Object.entries(CONTROLLER_RUNTIME)) {
      const metric = metrics.registry.getSingleMetric(name) as unknown as { labelNames: string[]; upperBounds?: number[] } | undefined;
      expect(metric, name).toBeDefined();
      expect(json.find((m) => m.name === name)?.type).toBe(want.type);
      expect(metric?.labelNames).toEqual(want.labels);
      if (want.type === 'histogram') expect(metric?.upperBounds).toEqual(GO_DEFAULT_BUCKETS);
    }
  });

  it('prefixes every other metric of ours with registry_config_webhook_', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    const ours = names.filter((n) => !(n in CONTROLLER_RUNTIME));
    expect(ours.length).toBeGreaterThan(10);
    for (const name of ours) expect(name).toMatch(/^registry_config_webhook_[a-z_]+$/);
  });
});

describe('the metrics reference', () => {
  it('docs/operations.md documents every metric the server exports', async () => {
    const reference = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const names = (await createMetrics({ processMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name);
    const missing = names.filter((name) => !reference.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
