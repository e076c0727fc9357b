import { Agent } from 'node:https';
import { connect } from 'node:tls';
import jsonpatch from 'fast-json-patch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY_WEBHOOK_PATH } from '../../src/http/webhook-server.js';
import { postReview, httpsCall } from '../support/https-client.js';
import { recordedAdmissionReviews, readAdmissionFixture, type RecordedReview, type SecretLike } from '../support/fixtures.js';
import { startTestWebhook, type TestWebhook } from '../support/webhook.js';

interface ReviewAnswer {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; patchType?: string; patch?: string; status?: { code: number; message: string }; warnings?: string[] };
}

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

describe('HTTPS admission endpoint', () => {
  let webhook: TestWebhook;
  beforeAll(async () => {
    webhook = await startTestWebhook();
  });
  afterAll(async () => {
    await webhook.close();
  });

  describe.each(recordedAdmissionReviews())('recorded review $file', ({ raw, review }) => {
    it('answers HTTP 200 with the same apiVersion, kind and uid', async () => {
      const res = await postReview(webhook.reviewUrl, raw, webhook.ca);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const answer = res.json<ReviewAnswer>();
      expect(answer.apiVersion).toBe(review.apiVersion);
      expect(answer.kind).toBe('AdmissionReview');
      expect(answer.response.uid).toBe(review.request.uid);
      // A patch without patchType is an invalid response for the API server.
      expect(answer.response.patch === undefined).toBe(answer.response.patchType === undefined);
    });

    it('patches (if at all) only /data/.dockerconfigjson, applying with RFC 6902, and is idempotent', async () => {
      const answer = (await postReview(webhook.reviewUrl, raw, webhook.ca)).json<ReviewAnswer>();
      if (!answer.response.patch) return;
      const ops = JSON.parse(decode(answer.response.patch)) as jsonpatch.Operation[];
      expect(ops).toHaveLength(1);
      expect(ops[0]?.path).toBe('/data/.dockerconfigjson');
      const patched = jsonpatch.applyPatch(structuredClone(review.request.object), ops, true, false).newDocument as SecretLike;
      const data = patched.data as Record<string, string>;
      const expected = {
        auths: {
          [decode(data.serverAddress as string)]: {
            username: decode(data.username as string),
            password: decode(data.password as string),
            auth: Buffer.from(`${decode(data.username as string)}:${decode(data.password as string)}`).toString('base64'),
          },
        },
      };
      expect(decode(data['.dockerconfigjson'] as string)).toBe(JSON.stringify(expected));

      // Sending the patched object back as an UPDATE yields no patch.
      const update: RecordedReview = structuredClone(review);
      update.request.operation = 'UPDATE';
      update.request.uid = `${review.request.uid}-again`;
      update.request.object = patched;
      update.request.oldObject = patched;
      const again = (await postReview(webhook.reviewUrl, JSON.stringify(update), webhook.ca)).json<ReviewAnswer>();
      expect(again.response).toEqual({ uid: `${review.request.uid}-again`, allowed: true });
    });
  });

  it('regenerates the exact value the real API server accepted for the documented recipe', async () => {
    const raw = JSON.stringify(readAdmissionFixture('create-dockerconfigjson-data.v1.json'));
    const answer = (await postReview(webhook.reviewUrl, raw, webhook.ca)).json<ReviewAnswer>();
    expect(answer.response.allowed).toBe(true);
    const ops = JSON.parse(decode(answer.response.patch as string)) as { op: string; value: string }[];
    expect(ops[0]?.op).toBe('add');
    expect(decode(ops[0]?.value as string)).toBe(
      '{"auths":{"registry.example.com:5000":{"username":"admin","password":"s3cr3t-pass","auth":"YWRtaW46czNjcjN0LXBhc3M="}}}',
    );
  });

  it('denies the recorded Secret without password, naming the Secret and the key', async () => {
    const raw = JSON.stringify(readAdmissionFixture('create-missing-password.v1.json'));
    const answer = (await postReview(webhook.reviewUrl, raw, webhook.ca)).json<ReviewAnswer>();
    expect(answer.response.allowed).toBe(false);
    expect(answer.response.status?.code).toBe(400);
    expect(answer.response.status?.message).toBe('registry config Secret default/serverless-registry-config-nopass: missing password');
    expect(answer.response.patch).toBeUndefined();
  });

  it('accepts any query string (the API server appends ?timeout=)', async () => {
    const raw = JSON.stringify(readAdmissionFixture('delete.v1.json'));
    for (const query of ['', '?timeout=10s', '?timeout=2s&x=1', '?timeout=garbage']) {
      const res = await postReview(`${webhook.url}${REGISTRY_WEBHOOK_PATH}${query}`, raw, webhook.ca);
      expect(res.status, query).toBe(200);
    }
  });

  describe('bad requests get a 4xx with a JSON reason and the server keeps serving', () => {
    const cases: { name: string; body: string | Buffer; contentType?: string; status: number; reason: RegExp }[] = [
      { name: 'body that is not JSON', body: 'not json {', status: 400, reason: /not valid JSON/ },
      { name: 'JSON that is not an object', body: '[1,2]', status: 400, reason: /JSON object/ },
      { name: 'no request', body: JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), status: 400, reason: /no request/ },
      {
        name: 'no uid',
        body: JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: { group: '', version: 'v1', kind: 'Secret' }, operation: 'CREATE' } }),
        status: 400,
        reason: /no uid/,
      },
      { name: 'unknown apiVersion', body: JSON.stringify({ apiVersion: 'admission.k8s.io/v2', kind: 'AdmissionReview', request: { uid: 'x' } }), status: 400, reason: /unsupported apiVersion/ },
      { name: 'Content-Type text/plain', body: '{}', contentType: 'text/plain', status: 415, reason: /./ },
      { name: 'Content-Type application/yaml', body: 'a: 1', contentType: 'application/yaml', status: 415, reason: /./ },
      { name: 'body over 7 MiB', body: Buffer.alloc(7 * 1024 * 1024 + 10, 0x20), status: 413, reason: /./ },
    ];
    it.each(cases)('$name -> $status', async ({ body, contentType, status, reason }) => {
      const res = await postReview(webhook.reviewUrl, body, webhook.ca, undefined, contentType ? { 'content-type': contentType } : {});
      expect(res.status).toBe(status);
      const parsed = res.json<{ code: string; message: string }>();
      expect(parsed.message).toMatch(reason);
      const ok = await postReview(webhook.reviewUrl, JSON.stringify(readAdmissionFixture('delete.v1.json')), webhook.ca);
      expect(ok.status).toBe(200);
    });

    it('accepts a body just under 7 MiB (an UPDATE carries two objects)', async () => {
      const review = readAdmissionFixture('update-patch-stringdata-password.v1.json');
      const padded = { ...review, padding: 'x'.repeat(6 * 1024 * 1024) };
      const res = await postReview(webhook.reviewUrl, JSON.stringify(padded), webhook.ca);
      expect(res.status).toBe(200);
    });

    it('never quotes a non-JSON body back', async () => {
      const res = await postReview(webhook.reviewUrl, 'password=CANARY-9f2e', webhook.ca);
      expect(res.status).toBe(400);
      expect(res.body).not.toContain('CANARY');
    });
  });

  it('keeps connections alive for at least 90 s and speaks HTTP/1.1 only', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const raw = JSON.stringify(readAdmissionFixture('delete.v1.json'));
    const first = await postReview(webhook.reviewUrl, raw, webhook.ca, agent);
    const keepAlive = String(first.headers['keep-alive'] ?? '');
    const timeout = Number(/timeout=(\d+)/.exec(keepAlive)?.[1]);
    expect(timeout).toBeGreaterThanOrEqual(90);
    agent.destroy();

    const alpn = await new Promise<string | false | null>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: Number(new URL(webhook.url).port), servername: 'localhost', ca: webhook.ca, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
        resolve(socket.alpnProtocol);
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(alpn).not.toBe('h2');
  });

  it('answers 405 with Allow: POST for other methods on the webhook path', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const res = await httpsCall(`${webhook.url}${REGISTRY_WEBHOOK_PATH}`, { method, ca: webhook.ca });
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.json<{ code: string }>().code).toBe('METHOD_NOT_ALLOWED');
    }
  });

  it("answers Fastify's own errors with this project's codes, never FST_ERR_*", async () => {
    const raw = JSON.stringify(readAdmissionFixture('delete.v1.json'));
    const cases: [Record<string, string>, string | Buffer, number, string][] = [
      [{ 'content-type': 'text/plain' }, raw, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{}, Buffer.alloc(7 * 1024 * 1024 + 10, 0x20), 413, 'BODY_TOO_LARGE'],
      [{}, '', 400, 'INVALID_JSON'],
    ];
    for (const [headers, body, status, code] of cases) {
      const res = await postReview(webhook.reviewUrl, body, webhook.ca, undefined, headers);
      expect(res.status, code).toBe(status);
      expect(res.json<{ code: string }>().code).toBe(code);
      expect(res.body).not.toContain('FST_');
    }
  });

  it('answers 404 as JSON for unknown paths', async () => {
    const res = await httpsCall(`${webhook.url}/nope`, { method: 'GET', ca: webhook.ca });
    expect(res.status).toBe(404);
    expect(res.json<{ code: string }>().code).toBe('NOT_FOUND');
  });
});
