/**
 * The fake API server's API Priority and Fairness against the recorded APF answers
 * (test/fixtures/apiserver-http/apf-*.json and the README's "Notable facts (APF)").
 */
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { PriorityLevel } from './apiserver/priority-and-fairness.js';
import { type FakeApiServer, startFakeApiServer } from './fake-apiserver.js';

interface Recorded429 {
  request: { method: string; path: string; headers: Record<string, string>; body: unknown };
  response: { status: number; statusText: string; headers: Record<string, string>; body: { data: string } };
}
const recording = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/apiserver-http/${name}.json`, import.meta.url), 'utf8')) as Recorded429;

function raw(url: string, method: string, path: string, body: unknown): Promise<{ status: number; statusText: string; headerNames: string[]; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request(`${url}${path}`, { method, headers: { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer fake-admin-token' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const names = res.rawHeaders.filter((_, i) => i % 2 === 0);
        const headers = Object.fromEntries(names.map((n, i) => [n, res.rawHeaders[2 * i + 1] ?? '']));
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headerNames: names, headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

let fake: FakeApiServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('fake API server: API Priority and Fairness', () => {
  it('answers past its seats exactly like the recorded APF 429: text/plain, headers in order, Retry-After 1', async () => {
    const recorded = recording('apf-429-secret-create');
    fake = await startFakeApiServer({ latencyMs: 200, priorityAndFairness: { seats: 3 } });
    fake.createNamespace('rec-apf-qq9ez');
    const sends = Array.from({ length: 6 }, (_, i) =>
      raw(fake!.url, 'POST', recorded.request.path, { ...(recorded.request.body as object), metadata: { name: `apf-write-${i}` } }),
    );
    const answers = await Promise.all(sends);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 201, 429, 429, 429]);
    const rejected = answers.find((a) => a.status === 429)!;
    expect(rejected.statusText).toBe(recorded.response.statusText);
    // Node adds its keep-alive headers (Connection, Keep-Alive) where Go's server adds none; the rest is as recorded.
    expect(rejected.headerNames.filter((n) => !['Connection', 'Keep-Alive'].includes(n))).toEqual(Object.keys(recorded.response.headers));
    for (const name of ['Cache-Control', 'Content-Type', 'Retry-After', 'X-Content-Type-Options', 'Content-Length']) {
      expect(rejected.headers[name], name).toBe(recorded.response.headers[name]);
    }
    expect(rejected.body).toBe(recorded.response.body.data);
    expect(fake.priorityLevel).toMatchObject({ dispatched: 3, rejected: 3 });
  });

  it('client-node 1.4.0 surfaces it as an ApiException with code 429, the text body and lower-case headers', async () => {
    fake = await startFakeApiServer({ latencyMs: 100, priorityAndFairness: { seats: 1 } });
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    const results = await Promise.allSettled([core.listNamespace(), core.listNamespace()]);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(rejected?.reason).toMatchObject({ code: 429, body: 'Too many requests, please try again later.\n', headers: { 'retry-after': '1', 'content-type': 'text/plain; charset=utf-8' } });
  });

  it('queues up to queueLength behind the seats and rejects the rest at once (recorded: 5 of 12 waited, 7 got 429)', async () => {
    fake = await startFakeApiServer({ latencyMs: 150, priorityAndFairness: { seats: 3, queueLength: 5 } });
    const answers = await Promise.all(Array.from({ length: 15 }, () => raw(fake!.url, 'GET', '/api/v1/namespaces', undefined)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(8);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(7);
  });

  it('an open watch holds no seat', async () => {
    fake = await startFakeApiServer({ priorityAndFairness: { seats: 1 } });
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    const watch = request(`${fake.url}/api/v1/secrets?watch=true`, { headers: { authorization: 'Bearer fake-admin-token' } });
    watch.on('error', () => undefined);
    watch.end();
    await fake.waitForWatches({ resource: 'secrets' });
    await expect(core.listNamespace()).resolves.toBeDefined();
    watch.destroy();
  });

  it('doubles Retry-After under sustained rejection 1, 3, 7, 15 and 31 s after the first, up to 32, and lowers it when rejections stop', async () => {
    let now = 0;
    const level = new PriorityLevel({ seats: 1, now: () => now });
    await level.admit(); // the one seat, held throughout
    const seen = new Map<string, number>();
    for (now = 0; now <= 40_000; now += 250) {
      // 4 rejections every 250 ms, as in apf-429-retry-after-escalated.json
      for (let i = 0; i < 4; i++) expect(await level.admit()).toBeUndefined();
      const retryAfter = String(level.retryAfter);
      if (!seen.has(retryAfter)) seen.set(retryAfter, now);
    }
    expect(Object.fromEntries(seen)).toEqual({ '1': 0, '2': 1000, '4': 3000, '8': 7000, '16': 15_000, '32': 31_000 });
    // Quiet: one lower per window with fewer rejections than Retry-After (the 32 s window from 63 s saw none).
    now = 100_000;
    expect(level.retryAfter).toBe(31);
  });
});
