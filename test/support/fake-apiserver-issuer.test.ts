/**
 * The fake API server's service-account issuer against the recordings of a real kube-apiserver
 * v1.36.2: discovery, the key set (406 unless asked as application/jwk-set+json), tokens it signs
 * (verifiable with the published key, reviewed like real ones), and APF-shaped 429s.
 */
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './fake-apiserver.js';

interface Exchange {
  request: { headers: Record<string, string>; body: unknown };
  response: { status: number; headers: Record<string, string>; body: unknown };
}

function recording(name: string): Exchange {
  return JSON.parse(readFileSync(new URL(`../fixtures/apiserver-http/${name}.json`, import.meta.url), 'utf8')) as Exchange;
}

const decode = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

let fake: FakeApiServer;

beforeEach(async () => {
  fake = await startFakeApiServer({ namespaces: ['default', 'team-a'] });
  fake.put({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: 'team-a' } });
});

afterEach(async () => {
  await fake.close();
});

async function fetchWith(path: string, accept: string): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`${fake.url}${path}`, { headers: { accept, authorization: 'Bearer fake-admin-token' } });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('service-account issuer discovery', () => {
  it('serves the discovery document as recorded (same fields in the same order, jwks_uri on the server)', async () => {
    const recorded = recording('serviceaccount-issuer-discovery');
    const answer = await fetchWith('/.well-known/openid-configuration', recorded.request.headers.Accept ?? '');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe(recorded.response.headers['cache-control']);
    const body = JSON.parse(answer.text) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(Object.keys(recorded.response.body as object));
    expect(body.issuer).toBe((recorded.response.body as { issuer: string }).issuer);
    expect(body.jwks_uri).toBe(`${fake.url}/openid/v1/jwks`);
  });

  it('answers 406 with the recorded Status to Accept: application/json', async () => {
    const recorded = recording('serviceaccount-issuer-jwks-406');
    const answer = await fetchWith('/openid/v1/jwks', recorded.request.headers.Accept ?? '');
    expect(answer.status).toBe(406);
    expect(answer.text).toBe(JSON.stringify(recorded.response.body));
  });

  it('serves the key set as application/jwk-set+json, keys shaped as recorded', async () => {
    const recorded = recording('serviceaccount-issuer-jwks');
    const answer = await fetchWith('/openid/v1/jwks', recorded.request.headers.Accept ?? '');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe(recorded.response.headers['content-type']);
    const keys = (JSON.parse(answer.text) as { keys: Record<string, unknown>[] }).keys;
    const recordedKey = (recorded.response.body as { keys: Record<string, unknown>[] }).keys[0] as Record<string, unknown>;
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0] as object)).toEqual(Object.keys(recordedKey));
    expect(keys[0]).toMatchObject({ use: 'sig', kty: 'RSA', alg: 'RS256', e: 'AQAB' });
  });

  it('signs ServiceAccount tokens with the published key, with the claims of a recorded token', async () => {
    const token = fake.issueServiceAccountToken('team-a', 'reader');
    const [header = '', claims = '', signature = ''] = token.split('.');
    const keys = (JSON.parse((await fetchWith('/openid/v1/jwks', 'application/jwk-set+json')).text) as { keys: { kid: string }[] }).keys;
    const key = keys.find((k) => k.kid === decode(header).kid);
    expect(key).toBeDefined();
    expect(Object.keys(decode(header))).toEqual(['alg', 'kid']);
    const recordedToken = (recording('tokenreview-authenticated').request.body as { spec: { token: string } }).spec.token;
    expect(Object.keys(decode(claims))).toEqual(Object.keys(decode(recordedToken.split('.')[1] ?? '')));
    const publicKey = createPublicKey({ key: key as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
    expect(verify('sha256', Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
  });

  it('reviews tokens it signed as the real TokenReview does: signature, issuer, expiry, the ServiceAccount', async () => {
    const authn = fake.kubeConfig().makeApiClient(AuthenticationV1Api);
    const review = async (token: string) => (await authn.createTokenReview({ body: { spec: { token } } })).status;
    const uid = fake.get<{ metadata: { uid: string } }>('serviceaccounts', 'team-a', 'reader')?.metadata.uid;
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      aud: ['https://kubernetes.default.svc.cluster.local'], exp: now + 600, iat: now, iss: 'https://kubernetes.default.svc.cluster.local', jti: 'j', nbf: now,
      'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'reader', uid } }, sub: 'system:serviceaccount:team-a:reader',
    };
    expect(await review(fake.signToken(claims))).toMatchObject({ authenticated: true, user: { username: 'system:serviceaccount:team-a:reader' } });
    expect((await review(fake.signToken({ ...claims, iss: 'https://evil' })))?.authenticated).toBeUndefined();
    expect((await review(fake.signToken({ ...claims, exp: now - 10 })))?.error).toMatch(/expired/);
    expect((await review(fake.signToken({ ...claims, nbf: now + 600 })))?.error).toMatch(/not valid yet/);
    const [h, c] = fake.signToken(claims).split('.');
    const recorded = recording('tokenreview-bad-signature').response.body as { status: unknown };
    expect(await review(`${h}.${c}.${Buffer.from('forged').toString('base64url')}`)).toEqual(recorded.status);
  });

  it('rotates its key: new tokens carry the new kid; the old key stays published only when kept', async () => {
    const first = fake.serviceAccountIssuer.keyId;
    const second = fake.rotateSigningKey({ keepOld: true });
    expect(second).not.toBe(first);
    const kids = async () => (JSON.parse((await fetchWith('/openid/v1/jwks', 'application/jwk-set+json')).text) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(await kids()).toEqual([second, first]);
    const third = fake.rotateSigningKey();
    expect(await kids()).toEqual([third]);
  });
});

describe('API Priority and Fairness throttling', () => {
  it('answers matching requests as the recorded 429: Retry-After, text/plain body, no Status', async () => {
    const recorded = recording('apf-429-queue-full');
    fake.throttle({ resource: 'tokenreviews' }, { retryAfterSeconds: 1, times: 2 });
    const send = () => fetch(`${fake.url}/apis/authentication.k8s.io/v1/tokenreviews`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ spec: { token: 't' } }) });
    for (let i = 0; i < 2; i++) {
      const response = await send();
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe(recorded.response.headers['Retry-After']);
      expect(response.headers.get('content-type')).toBe(recorded.response.headers['Content-Type']);
      expect(await response.text()).toBe((recorded.response.body as { data: string }).data);
    }
    expect((await send()).status).toBe(201);
  });
});
