/**
 * Resolver auth through the real HTTP routes, against the fake API server's TokenReview and
 * SubjectAccessReview (RBAC over stored Roles, or a programmed authorizer).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccessReviewAuthorizer, type AccessReviewAuthorizerOptions } from '../../../src/resolver/auth/access-review-authorizer.js';
import { DecisionCache } from '../../../src/resolver/auth/decision-cache.js';
import { RegistryIndex } from '../../../src/resolver/registry-index.js';
import { registerResolverRoutes } from '../../../src/resolver/routes.js';
import { type FakeApiServer, startFakeApiServer } from '../../support/fake-apiserver.js';
import { captureLogs } from '../../support/log-capture.js';
import { defaultSecret, SYSTEM } from '../secrets.js';
import { seedSecretReader } from './support.js';

let fake: FakeApiServer;
let apps: FastifyInstance[] = [];
let clock = 0;
let logs: ReturnType<typeof captureLogs>;

beforeEach(async () => {
  fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a', 'team-b'] });
  clock = 1_000_000;
  logs = captureLogs('trace');
});

afterEach(async () => {
  for (const app of apps) await app.close();
  apps = [];
  await fake.close();
});

async function appWith(overrides: Partial<AccessReviewAuthorizerOptions> = {}): Promise<FastifyInstance> {
  const index = new RegistryIndex({ systemNamespace: SYSTEM });
  index.replaceAll([defaultSecret()]);
  const app = Fastify({ logger: false });
  const authorize = createAccessReviewAuthorizer({ kubeConfig: fake.kubeConfig(), cacheTtlMs: 10_000, log: logs.log, now: () => clock, ...overrides });
  registerResolverRoutes(app, { index, authorize, log: logs.log });
  apps.push(app);
  await app.ready();
  return app;
}

function get(app: FastifyInstance, namespace: string, authorization?: string) {
  return app.inject({ method: 'GET', url: `/v1/namespaces/${namespace}/registry-config`, headers: authorization ? { authorization } : {} });
}

/** A ServiceAccount in team-a whose token may get Secrets in team-a only (a Role and RoleBinding, as a controller author would apply them). */
function readerToken(options: { audiences?: string[] } = {}): string {
  seedSecretReader(fake);
  return fake.issueServiceAccountToken('team-a', 'reader', options);
}

/** JWT-shaped, but signed by nobody this API server knows (only a TokenReview can tell without the keys). */
function forgedToken(n: number | string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'forged-key' })}.${part({ sub: `system:serviceaccount:team-a:forged-${n}`, exp: 4102444800 })}.${Buffer.from(`sig-${n}`).toString('base64url')}`;
}

const tokenReviews = () => fake.count({ resource: 'tokenreviews' });
const accessReviews = () => fake.count({ resource: 'subjectaccessreviews' });

describe('who may ask', () => {
  it('401 without a bearer token or with a malformed header, asking the API server nothing', async () => {
    const app = await appWith();
    for (const header of [undefined, 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer two words']) {
      const response = await get(app, 'team-a', header);
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    }
    expect(tokenReviews()).toBe(0);
  });

  it('401 for what cannot be a ServiceAccount token (not a JWT, alg none or HS256, no kid, too large), asking the API server nothing', async () => {
    const app = await appWith();
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = part({ sub: 'system:serviceaccount:team-a:reader' });
    for (const token of [
      'garbage-token-1234',
      'a.b',
      `${part({ alg: 'none', kid: 'k' })}.${claims}.c2ln`,
      `${part({ alg: 'HS256', kid: 'k' })}.${claims}.c2ln`,
      `${part({ alg: 'RS256' })}.${claims}.c2ln`,
      `${Buffer.from('{not json').toString('base64url')}.${claims}.c2ln`,
      `${part({ alg: 'RS256', kid: 'k' })}.${'A'.repeat(9000)}.c2ln`,
    ]) {
      const response = await get(app, 'team-a', `Bearer ${token}`);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(response.body).not.toContain(token.slice(0, 40));
    }
    expect(tokenReviews()).toBe(0);
  });

  it('401 for a JWT the TokenReview rejects, without echoing token or review error', async () => {
    const app = await appWith();
    const token = forgedToken(1);
    const response = await get(app, 'team-a', `Bearer ${token}`);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ code: 'UNAUTHORIZED', message: 'invalid bearer token' });
    expect(response.body).not.toContain(token);
    expect(tokenReviews()).toBe(1);
    expect(accessReviews()).toBe(0);
    // The rejection is remembered too.
    expect((await get(app, 'team-a', `bearer ${token}`)).statusCode).toBe(401);
    expect(tokenReviews()).toBe(1);
  });

  it('403 naming user and namespace when the SubjectAccessReview denies; 200 where RBAC allows', async () => {
    const token = readerToken();
    const app = await appWith();

    const denied = await get(app, 'team-b', `Bearer ${token}`);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('user "system:serviceaccount:team-a:reader" may not get secrets in namespace "team-b"') });

    const allowed = await get(app, 'team-a', `Bearer ${token}`);
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json()).toMatchObject({ namespace: 'team-a', source: 'default' });

    // The SubjectAccessReview as the real API server needs it: the reviewed user, get secrets in the namespace.
    const sar = fake.requests.filter((r) => r.resource === 'subjectaccessreviews').map((r) => (r.body as { spec: Record<string, unknown> }).spec);
    expect(sar[1]).toMatchObject({
      user: 'system:serviceaccount:team-a:reader',
      uid: fake.get('serviceaccounts', 'team-a', 'reader')?.metadata?.uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/credential-id': [expect.stringMatching(/^JTI=/)] },
      resourceAttributes: { namespace: 'team-a', verb: 'get', resource: 'secrets', version: 'v1' },
    });
    expect(logs.text()).not.toContain(token);
  });

  it('works for a watch too: checked once when it starts', async () => {
    const token = readerToken();
    const app = await appWith();
    const denied = await app.inject({ method: 'GET', url: '/v1/namespaces/team-b/registry-config?watch=true', headers: { authorization: `Bearer ${token}` } });
    expect(denied.statusCode).toBe(403);
  });
});

describe('caching', () => {
  it('reuses both answers within the TTL, and asks again after it', async () => {
    const token = readerToken();
    const app = await appWith({ cacheTtlMs: 10_000 });
    expect((await get(app, 'team-a', `Bearer ${token}`)).statusCode).toBe(200);
    expect([tokenReviews(), accessReviews()]).toEqual([1, 1]);

    clock += 9_999;
    expect((await get(app, 'team-a', `Bearer ${token}`)).statusCode).toBe(200);
    expect([tokenReviews(), accessReviews()]).toEqual([1, 1]);
    // Another namespace needs its own SubjectAccessReview, not another TokenReview.
    expect((await get(app, 'team-b', `Bearer ${token}`)).statusCode).toBe(403);
    expect([tokenReviews(), accessReviews()]).toEqual([1, 2]);

    clock += 2;
    expect((await get(app, 'team-a', `Bearer ${token}`)).statusCode).toBe(200);
    expect([tokenReviews(), accessReviews()]).toEqual([2, 3]);
  });

  it('an expired RBAC grant or a new one takes effect once the TTL has passed', async () => {
    const token = readerToken();
    let allow = false;
    fake.authorize = () => allow;
    const app = await appWith({ cacheTtlMs: 1000 });
    expect((await get(app, 'team-a', `Bearer ${token}`)).statusCode).toBe(403);
    allow = true;
    expect((await get(app, 'team-a', `Bearer ${token}`)).statusCode).toBe(403); // still the cached denial
    clock += 1001;
    expect((await get(app, 'team-a', `Bearer ${token}`)).statusCode).toBe(200);
  });

  it('concurrent identical requests share one TokenReview and one SubjectAccessReview', async () => {
    const token = readerToken();
    fake.latency = (request) => (request.resource === 'tokenreviews' || request.resource === 'subjectaccessreviews' ? 30 : 0);
    const app = await appWith();
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(app, 'team-a', `Bearer ${token}`)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    expect([tokenReviews(), accessReviews()]).toEqual([1, 1]);
  });

  it('TTL 0 caches nothing', async () => {
    const token = readerToken();
    const app = await appWith({ cacheTtlMs: 0 });
    await get(app, 'team-a', `Bearer ${token}`);
    await get(app, 'team-a', `Bearer ${token}`);
    expect([tokenReviews(), accessReviews()]).toEqual([2, 2]);
  });

  it('is bounded: a flood of distinct tokens evicts the least recently used', async () => {
    const app = await appWith({ maxCacheEntries: 3 });
    for (const n of [1, 2, 3, 1, 4]) await get(app, 'team-a', `Bearer ${forgedToken(n)}`); // 1 used again, so 2 goes
    expect(tokenReviews()).toBe(4);
    await get(app, 'team-a', `Bearer ${forgedToken(1)}`);
    expect(tokenReviews()).toBe(4);
    await get(app, 'team-a', `Bearer ${forgedToken(2)}`);
    expect(tokenReviews()).toBe(5);
  });
});

describe('audiences', () => {
  it('a token for another audience is rejected; one for ours is accepted', async () => {
    const general = readerToken();
    const ours = fake.issueServiceAccountToken('team-a', 'reader', { audiences: ['registry-config-webhook'] });
    const app = await appWith({ audiences: ['registry-config-webhook'] });
    expect((await get(app, 'team-a', `Bearer ${general}`)).statusCode).toBe(401);
    expect((await get(app, 'team-a', `Bearer ${ours}`)).statusCode).toBe(200);
    const review = fake.requests.find((r) => r.resource === 'tokenreviews')?.body as { spec: { audiences?: string[] } };
    expect(review.spec.audiences).toEqual(['registry-config-webhook']);
  });
});

describe('API server failures', () => {
  it('503 (retry) when a review fails, and the failure is not remembered', async () => {
    const token = readerToken();
    const app = await appWith();

    fake.failNext({ resource: 'tokenreviews', status: 500 });
    const failed = await get(app, 'team-a', `Bearer ${token}`);
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['retry-after']).toBe('1');
    expect(failed.json()).toMatchObject({ code: 'AUTHORIZATION_UNAVAILABLE' });

    fake.failNext({ resource: 'subjectaccessreviews', drop: true });
    expect((await get(app, 'team-a', `Bearer ${token}`)).statusCode).toBe(503);

    fake.failNext({ resource: 'tokenreviews', status: 403, message: 'cannot create tokenreviews' }); // no auth-delegator binding
    clock += 20_000;
    expect((await get(app, 'team-a', `Bearer ${token}`)).statusCode).toBe(503);

    expect((await get(app, 'team-a', `Bearer ${token}`)).statusCode).toBe(200);
    expect(logs.text()).toMatch(/TokenReview failed: HTTP 500/);
    expect(logs.text()).toMatch(/TokenReview failed: HTTP 403 Forbidden: cannot create tokenreviews/);
    expect(logs.text()).not.toContain(token);
  });

  it('503 when the API server does not answer within the request timeout', async () => {
    const token = readerToken();
    const app = await appWith({ requestTimeoutMs: 100 });
    fake.failNext({ resource: 'tokenreviews', status: 500, delayMs: 400 });
    const started = Date.now();
    expect((await get(app, 'team-a', `Bearer ${token}`)).statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(350);
  });
});

describe('DecisionCache', () => {
  it('does not keep failed loads, and shares one in-flight load', async () => {
    const cache = new DecisionCache<number>({ maxEntries: 10, ttlMs: () => 1000, now: () => 0 });
    await expect(cache.get('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    let loads = 0;
    const load = async () => ++loads;
    const [a, b] = await Promise.all([cache.get('k', load), cache.get('k', load)]);
    expect([a, b, loads, cache.size]).toEqual([1, 1, 1, 1]);
  });
});
