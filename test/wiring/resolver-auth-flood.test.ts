/**
 * A client with no credentials attacking the whole server (startTestServer, Kubernetes resolver,
 * AUTH=on) against the fake API server: random and forged tokens make no TokenReview at all, and
 * valid-looking work past the review budget is answered 429 + Retry-After at once.
 */
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { seedSecretReader, stored } from '../resolver/kubernetes/support.js';
import { defaultSecret, SYSTEM } from '../resolver/secrets.js';
import { type FakeApiServer, startFakeApiServer } from '../support/fake-apiserver.js';
import { httpsCall, type HttpResponse } from '../support/https-client.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestServer } from '../support/server.js';
import { type FakeKubeconfig, useFakeKubeconfig } from '../support/fake-kubeconfig.js';

let fake: FakeApiServer;
let server: RunningServer;
let ca: string;
const agent = new Agent({ keepAlive: true, maxSockets: 50 });
let kubeconfig: FakeKubeconfig | undefined;

beforeAll(async () => {
  fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a', 'team-b'] });
  fake.put(stored(defaultSecret()));
  seedSecretReader(fake);
  kubeconfig = useFakeKubeconfig(fake);
  ({ server, ca } = await startTestServer(
    { RESOLVER_SOURCE: 'kubernetes', SYSTEM_NAMESPACE: SYSTEM, AUTH: 'on', PROPAGATION: 'off', SHUTDOWN_DELAY: '0', AUTH_REVIEWS_PER_SECOND: '4', AUTH_REVIEWS_IN_FLIGHT: '2' },
    captureLogs('warn').log,
  ));
});

afterAll(async () => {
  await server?.shutdown('test end');
  agent.destroy();
  await fake?.close();
  kubeconfig?.restore();
});

function ask(token: string): Promise<HttpResponse> {
  return httpsCall(`https://127.0.0.1:${server.webhookPort}/v1/namespaces/team-a/registry-config`, { method: 'GET', ca, agent, headers: { authorization: `Bearer ${token}` } });
}

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('a flood of tokens from a client without credentials', () => {
  it('random strings and forged JWTs: every one 401, not one TokenReview', async () => {
    fake.clearRequests();
    const kid = fake.serviceAccountIssuer.keyId;
    const tokens = Array.from({ length: 300 }, (_, i) => {
      if (i % 3 === 0) return randomBytes(24).toString('base64url');
      const claims = part({ iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:team-a:reader', aud: ['https://kubernetes.default.svc.cluster.local'], exp: 4102444800 });
      // Half with the cluster's real kid (the signature is checked), half with invented kids.
      return `${part({ alg: 'RS256', kid: i % 3 === 1 ? kid : `kid-${i}` })}.${claims}.${randomBytes(256).toString('base64url')}`;
    });
    const answers = await Promise.all(tokens.map((token) => ask(token)));
    expect(answers.map((a) => a.status)).toEqual(Array(tokens.length).fill(401));
    expect(fake.count({ resource: 'tokenreviews' })).toBe(0);
    expect(fake.count({ resource: 'subjectaccessreviews' })).toBe(0);
    // Invented kids may re-read the key set, at most once per 10 s.
    expect(fake.count({ path: '/openid/v1/jwks' })).toBeLessThanOrEqual(1);
  });

  it('valid tokens past the budget: 429 with Retry-After at once, reviews within the budget', async () => {
    fake.clearRequests();
    fake.latency = (request) => (request.resource === 'tokenreviews' ? 1000 : 0);
    try {
      const tokens = Array.from({ length: 20 }, () => fake.issueServiceAccountToken('team-a', 'reader'));
      const started = Date.now();
      const answers = await Promise.all(tokens.map(async (token) => ({ response: await ask(token), ms: Date.now() - started })));
      const refused = answers.filter((a) => a.response.status === 429);
      expect(answers.filter((a) => a.response.status === 200).length).toBeLessThanOrEqual(2);
      expect(refused.length).toBeGreaterThanOrEqual(18);
      for (const { response, ms } of refused) {
        expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(response.json()).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
        expect(ms).toBeLessThan(800); // not queued behind the slow (1 s) reviews
      }
      expect(fake.count({ resource: 'tokenreviews' })).toBeLessThanOrEqual(2);
    } finally {
      fake.latency = 0;
    }
    const text = await (await fetch(`http://127.0.0.1:${server.probePort}/metrics`)).text();
    expect(text).toMatch(/registry_config_webhook_auth_budget_refusals_total\{reason="in-flight"\} \d+/);
    expect(text).toMatch(/registry_config_webhook_auth_local_rejections_total\{reason="bad-signature"\} 100/);
  });
});
