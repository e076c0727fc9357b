/**
 * ServiceAccount tokens verified offline before any review: the resolver routes with the auth
 * as deployed (issuer keys from the fake API server's discovery, offline verification, review
 * budget), against the fake's own signed tokens. Every rejection path is counted in the fake's
 * request log: a token that does not verify makes no TokenReview.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../../src/metrics/metrics.js';
import { startServiceAccountAuth, type ServiceAccountAuth, type ServiceAccountAuthOptions } from '../../../src/resolver/auth/service-account-auth.js';
import { RegistryIndex } from '../../../src/resolver/registry-index.js';
import { registerResolverRoutes } from '../../../src/resolver/routes.js';
import { type FakeApiServer, startFakeApiServer } from '../../support/fake-apiserver.js';
import { captureLogs } from '../../support/log-capture.js';
import { defaultSecret, SYSTEM } from '../secrets.js';
import { eventually, seedSecretReader } from './support.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const DISCOVERY = '/.well-known/openid-configuration';
const JWKS = '/openid/v1/jwks';

let fake: FakeApiServer;
let clock: number;
let metrics: Metrics;
let logs: ReturnType<typeof captureLogs>;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(async () => {
  clock = Date.UTC(2026, 11, 6, 12, 0, 0);
  fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a', 'team-b'], now: () => new Date(clock) });
  seedSecretReader(fake);
  metrics = createMetrics({ processMetrics: false });
  logs = captureLogs('debug');
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await fake.close();
});

async function appWith(overrides: Partial<ServiceAccountAuthOptions> = {}): Promise<{ app: FastifyInstance; auth: ServiceAccountAuth }> {
  const auth = await startServiceAccountAuth({
    kubeConfig: fake.kubeConfig(),
    log: logs.log,
    metrics,
    cacheTtlMs: 10_000,
    budget: { perSecond: 100, maxInFlight: 50 },
    keys: { minRefreshIntervalMs: 10_000, retryInitialMs: 20, retryMaxMs: 50 },
    now: () => clock,
    ...overrides,
  });
  cleanups.push(() => auth.stop());
  const index = new RegistryIndex({ systemNamespace: SYSTEM });
  index.replaceAll([defaultSecret()]);
  const app = Fastify({ logger: false });
  registerResolverRoutes(app, { index, authorize: auth.authorize, log: logs.log });
  await app.ready();
  cleanups.push(() => app.close());
  return { app, auth };
}

function get(app: FastifyInstance, token: string, namespace = 'team-a') {
  return app.inject({ method: 'GET', url: `/v1/namespaces/${namespace}/registry-config`, headers: { authorization: `Bearer ${token}` } });
}

const tokenReviews = () => fake.count({ resource: 'tokenreviews' });
const accessReviews = () => fake.count({ resource: 'subjectaccessreviews' });
const keySetReads = () => fake.count({ path: JWKS });

/** The claims kube-apiserver puts in a token for team-a/reader (uid of the stored ServiceAccount). */
function readerClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const uid = fake.get<{ metadata: { uid: string } }>('serviceaccounts', 'team-a', 'reader')?.metadata.uid;
  const iat = Math.floor(clock / 1000);
  return {
    aud: [ISSUER], exp: iat + 3600, iat, iss: ISSUER, jti: 'test-jti', nbf: iat,
    'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'reader', uid } },
    sub: 'system:serviceaccount:team-a:reader',
    ...overrides,
  };
}

async function counterValue(counter: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }, labels: Record<string, string>): Promise<number> {
  const { values } = await counter.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}

describe('offline verification', () => {
  it('forged signature, wrong issuer, expired, not yet valid, wrong audience, unknown key: 401 and no TokenReview', async () => {
    const { app } = await appWith();
    const valid = fake.issueServiceAccountToken('team-a', 'reader');
    const other = fake.signToken(readerClaims({ jti: 'other' }));
    const [header, claims] = valid.split('.');
    const rejected: Record<string, string> = {
      'bad-signature': `${header}.${claims}.${other.split('.')[2]}`,
      'wrong-issuer': fake.signToken(readerClaims({ iss: 'https://evil.example.com' })),
      expired: fake.signToken(readerClaims({ exp: Math.floor(clock / 1000) - 120 })),
      'not-yet-valid': fake.signToken(readerClaims({ nbf: Math.floor(clock / 1000) + 600, iat: Math.floor(clock / 1000) + 600 })),
      'wrong-audience': fake.issueServiceAccountToken('team-a', 'reader', { audiences: ['someone-else'] }),
      'unknown-key': fake.signToken(readerClaims(), { kid: 'not-a-key-of-this-cluster' }),
    };
    fake.clearRequests();
    for (const [reason, token] of Object.entries(rejected)) {
      const response = await get(app, token);
      expect(response.statusCode, reason).toBe(401);
      expect(response.json(), reason).toEqual({ code: 'UNAUTHORIZED', message: 'invalid bearer token' });
      expect(await counterValue(metrics.authLocalRejections, { reason }), reason).toBe(1);
    }
    expect(tokenReviews()).toBe(0);
    expect(accessReviews()).toBe(0);
    // The API server would have said no to each of them too.
    for (const token of Object.values(rejected)) {
      const review = await fake.kubeConfig().makeApiClient((await import('@kubernetes/client-node')).AuthenticationV1Api).createTokenReview({ body: { spec: { token } } });
      expect(review.status?.authenticated).not.toBe(true);
    }
  });

  it("accepts the API server's default audiences besides the issuer when none are configured (managed clusters set them apart)", async () => {
    const apiAudience = 'https://kubernetes.default.svc';
    const { app } = await appWith({ defaultAudiences: [apiAudience] });
    fake.clearRequests();
    await get(app, fake.issueServiceAccountToken('team-a', 'reader', { audiences: [apiAudience] }));
    expect(tokenReviews()).toBe(1); // passed offline; the TokenReview decides
    fake.clearRequests();
    expect((await get(app, fake.issueServiceAccountToken('team-a', 'reader', { audiences: ['someone-else'] }))).statusCode).toBe(401);
    expect(tokenReviews()).toBe(0);
  });

  it('a token within the one-minute leeway of its expiry passes the offline check; the TokenReview decides', async () => {
    const { app } = await appWith();
    const token = fake.issueServiceAccountToken('team-a', 'reader', { expirationSeconds: 600 });
    clock += 630_000; // 30 s past exp: the API server's validator allows 60 s of skew
    fake.clearRequests();
    // The fake's TokenReview is strict about expiry; only the offline check is asked here.
    expect((await get(app, token)).statusCode).toBe(401);
    expect(tokenReviews()).toBe(1);
  });

  it('a valid token makes one TokenReview and one SubjectAccessReview, then hits the cache', async () => {
    const { app } = await appWith();
    const token = fake.issueServiceAccountToken('team-a', 'reader');
    fake.clearRequests();
    for (let i = 0; i < 5; i++) expect((await get(app, token)).statusCode).toBe(200);
    expect([tokenReviews(), accessReviews()]).toEqual([1, 1]);
    expect(await counterValue(metrics.authReviews, { kind: 'token_review', result: 'authenticated' })).toBe(1);
    expect(await counterValue(metrics.authReviews, { kind: 'subject_access_review', result: 'allowed' })).toBe(1);
  });

  it('a verified token the TokenReview refuses (its ServiceAccount was deleted) is still a 401', async () => {
    const { app } = await appWith();
    const token = fake.issueServiceAccountToken('team-a', 'reader');
    fake.remove('serviceaccounts', 'team-a', 'reader');
    expect((await get(app, token)).statusCode).toBe(401);
    expect(tokenReviews()).toBe(1);
  });

  it('reads the key set through client-node with Accept: application/jwk-set+json (the API server answers 406 to application/json)', async () => {
    await appWith();
    const read = fake.requests.find((r) => r.path === JWKS);
    expect(read?.headers.accept).toBe('application/jwk-set+json');
    expect(read?.headers['user-agent']).toBe('registry-config-webhook/resolver-auth');
    expect(read?.status).toBe(200);
    expect(fake.count({ path: DISCOVERY })).toBe(1);
  });
});

describe('key rotation', () => {
  it('a token signed with a new key makes the key set be read again, and then verifies', async () => {
    const { app } = await appWith();
    expect(keySetReads()).toBe(1);
    const before = fake.issueServiceAccountToken('team-a', 'reader');
    expect((await get(app, before)).statusCode).toBe(200);

    fake.rotateSigningKey({ keepOld: false });
    clock += 10_000; // unknown kids re-read the keys at most once per 10 s (the start counted)
    const after = fake.issueServiceAccountToken('team-a', 'reader');
    expect((await get(app, after)).statusCode).toBe(200);
    expect(keySetReads()).toBe(2);
    // The old key left the key set: its tokens no longer verify once the keys are read again.
    clock += 11_000;
    const stale = fake.signToken(readerClaims(), { kid: 'forged' });
    expect((await get(app, stale)).statusCode).toBe(401);
    expect(keySetReads()).toBe(3);
    const oldToken = fake.issueServiceAccountToken('team-a', 'reader'); // signed with the new key: fine
    expect((await get(app, oldToken)).statusCode).toBe(200);
  });

  it('unknown kids cause at most one key-set read per interval, however many arrive', async () => {
    const { app } = await appWith();
    fake.clearRequests();
    // Within 10 s of the start's read: none.
    for (let i = 0; i < 50; i++) expect((await get(app, fake.signToken(readerClaims(), { kid: `forged-${i}` }))).statusCode).toBe(401);
    expect(keySetReads()).toBe(0);
    clock += 10_000;
    for (let i = 0; i < 50; i++) await get(app, fake.signToken(readerClaims(), { kid: `forged-again-${i}` }));
    expect(keySetReads()).toBe(1);
    expect(tokenReviews()).toBe(0);
  });

  it('re-reads the keys periodically', async () => {
    await appWith({ keys: { refreshIntervalMs: 50 } });
    await eventually(() => keySetReads() >= 3, 3000);
  });
});

describe('discovery unavailable', () => {
  it('falls back to TokenReview within the budget, retries discovery in the background, and verifies offline once it is back', async () => {
    fake.failNext({ path: DISCOVERY, status: 503, times: Number.POSITIVE_INFINITY });
    const { app, auth } = await appWith();
    expect(auth.verifying()).toBe(false);
    expect(logs.text()).toMatch(/service-account issuer keys unavailable/);

    const valid = fake.issueServiceAccountToken('team-a', 'reader');
    expect((await get(app, valid)).statusCode).toBe(200);
    const forged = fake.signToken(readerClaims(), { kid: 'forged' });
    expect((await get(app, forged)).statusCode).toBe(401);
    expect(tokenReviews()).toBe(2); // no keys: the TokenReview decided both
    await eventually(() => fake.count({ path: DISCOVERY }) >= 3, 3000); // retried with backoff

    fake.clearFailures();
    await eventually(() => auth.verifying(), 3000);
    const forgedAgain = fake.signToken(readerClaims(), { kid: 'forged-again' });
    expect((await get(app, forgedAgain)).statusCode).toBe(401);
    expect(tokenReviews()).toBe(2);
    expect(await counterValue(metrics.authKeyRefreshes, { result: 'failure' })).toBeGreaterThanOrEqual(2);
  });

  it('a key set served only as application/json would be refused (406) and is reported, not crashed on', async () => {
    fake.failNext({ path: JWKS, status: 406, message: '406: Not Acceptable\n\nAvailable representations: application/jwk-set+json', reason: 'NotAcceptable', times: Number.POSITIVE_INFINITY });
    const { auth } = await appWith();
    expect(auth.verifying()).toBe(false);
    expect(logs.text()).toMatch(/key set \(\/openid\/v1\/jwks\) failed: HTTP 406/);
  });
});

describe('review budget', () => {
  it('past the rate, 429 with Retry-After at once; after a second, reviews are made again', async () => {
    const { app } = await appWith({ budget: { perSecond: 3, maxInFlight: 50 } });
    const tokens = Array.from({ length: 3 }, () => fake.issueServiceAccountToken('team-a', 'reader'));
    fake.clearRequests();
    // First: TokenReview + SubjectAccessReview (2 of 3); second: TokenReview only (the SAR is cached); third: over.
    expect((await get(app, tokens[0] as string)).statusCode).toBe(200);
    expect((await get(app, tokens[1] as string)).statusCode).toBe(200);
    const refused = await get(app, tokens[2] as string);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect(tokenReviews()).toBe(2);
    // A cached token needs no review, so the budget does not apply to it.
    expect((await get(app, tokens[0] as string)).statusCode).toBe(200);
    clock += 1000;
    expect((await get(app, tokens[2] as string)).statusCode).toBe(200);
    expect(await counterValue(metrics.authBudgetRefusals, { reason: 'rate' })).toBe(1);
  });

  it('past the in-flight bound, 429 at once rather than a queue', async () => {
    const { app } = await appWith({ budget: { perSecond: 1000, maxInFlight: 2 } });
    const tokens = Array.from({ length: 6 }, () => fake.issueServiceAccountToken('team-a', 'reader'));
    fake.latency = (request) => (request.resource === 'tokenreviews' ? 300 : 0);
    const started = Date.now();
    const answers = await Promise.all(tokens.map(async (token) => {
      const response = await get(app, token);
      return { status: response.statusCode, ms: Date.now() - started };
    }));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(2);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(4);
    for (const answer of refused) expect(answer.ms).toBeLessThan(250); // not held behind the slow reviews
    expect(tokenReviews()).toBe(2);
    expect(await counterValue(metrics.authBudgetRefusals, { reason: 'in-flight' })).toBe(4);
  });

  it("honours the API server's 429: its Retry-After is passed on, and no review is made until then", async () => {
    const { app } = await appWith();
    const [first, second] = [fake.issueServiceAccountToken('team-a', 'reader'), fake.issueServiceAccountToken('team-a', 'reader')];
    fake.throttle({ resource: 'tokenreviews' }, { retryAfterSeconds: 4, times: 1 });
    fake.clearRequests();
    const throttled = await get(app, first);
    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers['retry-after']).toBe('4');
    const paused = await get(app, second);
    expect(paused.statusCode).toBe(429);
    expect(Number(paused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(tokenReviews()).toBe(1);
    clock += 4000;
    expect((await get(app, second)).statusCode).toBe(200);
    expect(await counterValue(metrics.authReviews, { kind: 'token_review', result: 'throttled' })).toBe(1);
    expect(await counterValue(metrics.authBudgetRefusals, { reason: 'apiserver-throttled' })).toBe(2);
  });
});
