import { describe, expect, it } from 'vitest';
import type { ReviewSummary } from '../../src/admission/index.js';
import { AdmissionMetrics } from '../../src/http/admission-metrics.js';
import { createMetrics } from '../../src/metrics/metrics.js';

const summary: ReviewSummary = {
  uid: 'u',
  apiVersion: 'admission.k8s.io/v1',
  kind: 'Secret',
  namespace: 'default',
  name: 'serverless-registry-config',
  operation: 'UPDATE',
  dryRun: false,
  allowed: true,
  code: 200,
  patched: true,
  warnings: 0,
};

async function scrape(metrics: ReturnType<typeof createMetrics>, name: string): Promise<number | undefined> {
  const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('admission metrics counted in plain numbers and published at scrape time', () => {
  it('shows reviews in flight and answered as of the scrape, and keeps counting between scrapes', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const recorder = new AdmissionMetrics(metrics, '/defaulting/registry-config-secrets');
    recorder.started();
    recorder.started();
    for (let i = 0; i < 3; i++) recorder.answered(summary);
    expect(await scrape(metrics, 'controller_runtime_webhook_requests_in_flight')).toBe(2);
    expect(await scrape(metrics, 'controller_runtime_webhook_requests_total')).toBe(3);

    recorder.finished(0.001);
    recorder.finished(0.002);
    recorder.answered(summary);
    recorder.answered(summary);
    // Every scrape runs every publisher (once per metric it feeds): counts must not double.
    expect(await scrape(metrics, 'controller_runtime_webhook_requests_in_flight')).toBe(0);
    expect(await scrape(metrics, 'controller_runtime_webhook_requests_total')).toBe(5);
    expect(await scrape(metrics, 'controller_runtime_webhook_requests_total')).toBe(5);
  });

  it('keeps one series per label set, never per Secret, with unknown operations folded into "other"', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const recorder = new AdmissionMetrics(metrics, '/w');
    recorder.answered({ ...summary, name: 'a' });
    recorder.answered({ ...summary, name: 'b', namespace: 'other' });
    recorder.answered({ ...summary, operation: 'PATCH-ME' });
    const text = await metrics.registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('registry_config_webhook_admission_reviews_total{'));
    expect(series).toHaveLength(2);
    expect(series.find((l) => l.includes('operation="other"'))).toMatch(/ 1$/);
    expect(series.find((l) => l.includes('operation="UPDATE"'))).toMatch(/ 2$/);
  });
});
