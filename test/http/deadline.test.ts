import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { REGISTRY_WEBHOOK_PATH } from '../../src/http/webhook-server.js';
import { postReview } from '../support/https-client.js';
import { readAdmissionFixture } from '../support/fixtures.js';
import { startTestWebhook, type TestWebhook } from '../support/webhook.js';

describe('a review is answered well inside the API server timeout', () => {
  const metrics = createMetrics({ processMetrics: false });
  let webhook: TestWebhook;
  beforeAll(async () => {
    // An artificially slow handler: 3 s per decision.
    webhook = await startTestWebhook({
      metrics,
      timeoutMarginMs: 500,
      handler: () => new Promise((resolve) => setTimeout(() => resolve({ allowed: true }), 3000).unref()),
    });
  });
  afterAll(async () => {
    await webhook.close();
  });

  it('gives up at ?timeout minus the margin with a clear 503', async () => {
    const started = Date.now();
    const res = await postReview(`${webhook.url}${REGISTRY_WEBHOOK_PATH}?timeout=1s`, JSON.stringify(readAdmissionFixture('delete.v1.json')), webhook.ca);
    const took = Date.now() - started;
    expect(res.status).toBe(503);
    expect(res.json<{ message: string }>().message).toMatch(/not decided within 500 ms/);
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(1000);
    expect(await metrics.registry.getSingleMetricAsString('registry_config_webhook_requests_rejected_total')).toMatch(/reason="deadline"} 1/);
  });

  it('lets a slow decision finish when the API server allows it', async () => {
    const res = await postReview(`${webhook.url}${REGISTRY_WEBHOOK_PATH}?timeout=10s`, JSON.stringify(readAdmissionFixture('delete.v1.json')), webhook.ca);
    expect(res.status).toBe(200);
  });
});
