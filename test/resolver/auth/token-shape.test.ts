/** The first, free check of a bearer token, and the review budget's bounds, as plain functions. */
import { describe, expect, it } from 'vitest';
import { throttledError } from '../../../src/resolver/auth/access-reviews.js';
import { ReviewBudget, ReviewBudgetExceeded } from '../../../src/resolver/auth/review-budget.js';
import { checkTokenShape, MAX_TOKEN_BYTES } from '../../../src/resolver/auth/token-shape.js';

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (header: unknown) => `${part(header)}.${part({ sub: 'x' })}.c2ln`;

describe('checkTokenShape', () => {
  it('accepts a JWT with an asymmetric alg and a kid, as kube-apiserver signs them', () => {
    expect(checkTokenShape(jwt({ alg: 'RS256', kid: 'PU7xE7ZCV0r7dFTUdwWkUQTGM5bReqs5_GjF_K7GOZ8' }))).toEqual({ ok: true, algorithm: 'RS256', keyId: 'PU7xE7ZCV0r7dFTUdwWkUQTGM5bReqs5_GjF_K7GOZ8' });
    expect(checkTokenShape(jwt({ alg: 'ES256', kid: 'k', typ: 'JWT' }))).toMatchObject({ ok: true, algorithm: 'ES256' });
  });

  it.each<[string, string, string]>([
    ['an opaque token', 'this-is-not-a-valid-token', 'not-a-jwt'],
    ['two parts', `${part({ alg: 'RS256', kid: 'k' })}.${part({})}`, 'not-a-jwt'],
    ['an empty signature', `${part({ alg: 'RS256', kid: 'k' })}.${part({})}.`, 'not-a-jwt'],
    ['standard base64 (+ and /)', `${part({ alg: 'RS256', kid: 'k' })}.${part({})}.a+b/`, 'not-a-jwt'],
    ['a header that is not JSON', `${Buffer.from('{"alg":').toString('base64url')}.${part({})}.c2ln`, 'bad-header'],
    ['a header that is an array', jwt(['RS256']), 'bad-header'],
    ['alg none', jwt({ alg: 'none', kid: 'k' }), 'algorithm-not-allowed'],
    ['alg HS256 (a key confusion attempt)', jwt({ alg: 'HS256', kid: 'k' }), 'algorithm-not-allowed'],
    ['no alg', jwt({ kid: 'k' }), 'algorithm-not-allowed'],
    ['no kid', jwt({ alg: 'RS256' }), 'no-key-id'],
    ['an empty kid', jwt({ alg: 'RS256', kid: '' }), 'no-key-id'],
    ['a kid that is not a string', jwt({ alg: 'RS256', kid: 7 }), 'no-key-id'],
    ['more than 8 KiB', `${part({ alg: 'RS256', kid: 'k' })}.${'A'.repeat(MAX_TOKEN_BYTES)}.c2ln`, 'too-large'],
  ])('refuses %s', (_name, token, reason) => {
    expect(checkTokenShape(token)).toEqual({ ok: false, reason });
  });
});

describe('ReviewBudget', () => {
  it('refuses past the rate and past the in-flight bound at once, and says when to retry', async () => {
    let now = 0;
    const budget = new ReviewBudget({ perSecond: 2, maxInFlight: 5, now: () => now });
    await budget.run(async () => 1);
    await budget.run(async () => 1);
    await expect(budget.run(async () => 1)).rejects.toMatchObject({ refusal: 'rate', retryAfterSeconds: 1 });
    now += 500;
    await expect(budget.run(async () => 1)).resolves.toBe(1);

    const narrow = new ReviewBudget({ perSecond: 100, maxInFlight: 1 });
    let release: () => void = () => undefined;
    const held = narrow.run(() => new Promise<void>((resolve) => { release = resolve; }));
    await expect(narrow.run(async () => 1)).rejects.toBeInstanceOf(ReviewBudgetExceeded);
    release();
    await held;
    await expect(narrow.run(async () => 1)).resolves.toBe(1);
  });

  it("pauses for the API server's Retry-After", async () => {
    let now = 0;
    const budget = new ReviewBudget({ perSecond: 100, maxInFlight: 5, now: () => now });
    budget.pauseFor(8);
    now += 2500;
    await expect(budget.run(async () => 1)).rejects.toMatchObject({ refusal: 'apiserver-throttled', retryAfterSeconds: 6 });
    now += 5500;
    await expect(budget.run(async () => 1)).resolves.toBe(1);
  });
});

describe('throttledError', () => {
  it("reads APF's Retry-After from a 429 (1 to 32 s; odd values count as 1, at most 60)", () => {
    const apiError = (code: number, retryAfter?: string) => Object.assign(new Error('HTTP-Code: 429'), { code, body: 'Too many requests, please try again later.\n', headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } });
    expect(throttledError(apiError(429, '32'))?.retryAfterSeconds).toBe(32);
    expect(throttledError(apiError(429))?.retryAfterSeconds).toBe(1);
    expect(throttledError(apiError(429, 'Wed, 21 Oct 2015 07:28:00 GMT'))?.retryAfterSeconds).toBe(1);
    expect(throttledError(apiError(429, '3600'))?.retryAfterSeconds).toBe(60);
    expect(throttledError(apiError(500, '5'))).toBeUndefined();
  });
});
