import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postReview } from '../support/https-client.js';
import { readAdmissionFixture } from '../support/fixtures.js';
import { startTestWebhook, type TestWebhook } from '../support/webhook.js';

describe('any body gets a 2xx AdmissionReview or a 4xx, never a 5xx', () => {
  let webhook: TestWebhook;
  beforeAll(async () => {
    webhook = await startTestWebhook();
  });
  afterAll(async () => {
    await webhook.close();
  });

  const base = readAdmissionFixture('create-dockerconfigjson-data.v1.json');

  it('for arbitrary JSON, random bytes and mangled reviews', async () => {
    const mangledReview = fc
      .record({
        path: fc.constantFrom('request', 'request.object', 'request.object.data', 'request.object.metadata', 'request.kind', 'request.uid', 'request.operation', 'request.object.metadata.labels'),
        value: fc.jsonValue(),
      })
      .map(({ path, value }) => {
        const review = structuredClone(base) as unknown as Record<string, unknown>;
        const keys = path.split('.');
        let cursor = review;
        for (const key of keys.slice(0, -1)) cursor = cursor[key] as Record<string, unknown>;
        cursor[keys[keys.length - 1] as string] = value;
        return Buffer.from(JSON.stringify(review));
      });
    const body = fc.oneof(
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
      fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
      mangledReview,
    );
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const res = await postReview(webhook.reviewUrl, payload, webhook.ca);
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(500);
        if (res.status === 200) {
          const answer = res.json<{ kind: string; response: { uid: string } }>();
          expect(answer.kind).toBe('AdmissionReview');
          expect(typeof answer.response.uid).toBe('string');
        } else {
          expect(typeof res.json<{ message: string }>().message).toBe('string');
        }
      }),
      { numRuns: 150 },
    );
    const still = await postReview(webhook.reviewUrl, JSON.stringify(base), webhook.ca);
    expect(still.status).toBe(200);
  });
});
