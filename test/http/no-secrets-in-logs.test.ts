import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { postReview } from '../support/https-client.js';
import { readAdmissionFixture } from '../support/fixtures.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestWebhook, type TestWebhook } from '../support/webhook.js';

const CANARY = 'canary-Pa55:w0rd-7c1d';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('no Secret value reaches logs, metrics or answers', () => {
  const logs = captureLogs('trace');
  const metrics = createMetrics({ processMetrics: false });
  let webhook: TestWebhook;
  beforeAll(async () => {
    webhook = await startTestWebhook({ log: logs.log, metrics });
  });
  afterAll(async () => {
    await webhook.close();
  });

  it('keeps a canary password out of every log line and metric, in data and in last-applied-configuration', async () => {
    const review = readAdmissionFixture('create-dockerconfigjson-data.v1.json');
    const object = review.request.object as { data: Record<string, string>; metadata: Record<string, unknown> };
    object.data.password = b64(CANARY);
    object.metadata.annotations = {
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ stringData: { password: CANARY } }),
    };
    const update = structuredClone(review);
    update.request.operation = 'UPDATE';
    update.request.oldObject = structuredClone(update.request.object);

    const missing = structuredClone(review);
    delete (missing.request.object as { data: Record<string, string> }).data.username;

    const malformed = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { object } });
    const bodies = [JSON.stringify(review), JSON.stringify(update), JSON.stringify(missing), malformed, `{"password":"${CANARY}"`];
    const answers: string[] = [];
    for (const body of bodies) answers.push((await postReview(webhook.reviewUrl, body, webhook.ca)).body);

    const forbidden = [CANARY, b64(CANARY), b64(`admin:${CANARY}`), CANARY.slice(0, 12)];
    const logText = logs.text();
    expect(logs.lines().length).toBeGreaterThanOrEqual(bodies.length);
    const exposition = await metrics.registry.metrics();
    for (const needle of forbidden) {
      expect(logText).not.toContain(needle);
      expect(exposition).not.toContain(needle);
    }
    // Denials and errors name keys, not values.
    for (const answer of answers.slice(2)) for (const needle of forbidden) expect(answer).not.toContain(needle);
    // The generated .dockerconfigjson is only in the patch of the answer, nowhere else.
    const patchAnswer = JSON.parse(answers[0] as string) as { response: { patch: string } };
    const generated = (JSON.parse(Buffer.from(patchAnswer.response.patch, 'base64').toString()) as { value: string }[])[0]?.value as string;
    expect(logText).not.toContain(generated.slice(0, 40));
  });

  it('logs one line per review with uid, namespace, name, operation, dryRun, decision, patched and latency', async () => {
    const review = readAdmissionFixture('create-dryrun.v1.json');
    const before = logs.records().length;
    await postReview(webhook.reviewUrl, JSON.stringify(review), webhook.ca);
    const lines = logs.records().slice(before).filter((r) => r.msg === 'admission review' || r.msg === 'slow admission review');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      uid: review.request.uid,
      namespace: review.request.namespace,
      name: 'serverless-registry-config-dryrun',
      operation: 'CREATE',
      dryRun: true,
      allowed: true,
      patched: true,
    });
    expect(typeof lines[0]?.latencyMs).toBe('number');
  });
});
