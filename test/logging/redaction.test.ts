import { describe, expect, it } from 'vitest';
import { REDACT_CENSOR } from '../../src/logging/redaction.js';
import { captureLogs } from '../support/log-capture.js';

const CANARY = 'hunter2-canary';

describe('log redaction (one place: src/logging/redaction.ts)', () => {
  it.each([
    ['a Secret logged whole', { secret: { metadata: { name: 'x' }, data: { password: CANARY } } }],
    ['a Secret inside a review', { review: { request: { object: { data: { password: CANARY } } } } }],
    ['stringData', { object: { stringData: { password: CANARY } } }],
    ['last-applied-configuration', { object: { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `{"stringData":{"password":"${CANARY}"}}` } } } }],
    ['an Authorization header', { req: { headers: { authorization: `Bearer ${CANARY}` } } }],
    ['headers of a client request', { headers: { authorization: `Bearer ${CANARY}` } }],
    ['a bare token', { token: CANARY }],
    ['a private key', { pair: { key: `-----BEGIN PRIVATE KEY-----${CANARY}` } }],
    ['a request body', { body: { password: CANARY } }],
  ])('censors %s', (_name, fields) => {
    const logs = captureLogs('info');
    logs.log.info(fields, 'something happened');
    const text = logs.text();
    expect(text).toContain('something happened');
    expect(text).toContain(REDACT_CENSOR);
    expect(text).not.toContain(CANARY);
  });

  it('keeps the fields operators need', () => {
    const logs = captureLogs('info');
    logs.log.info({ uid: 'u-1', namespace: 'team-a', name: 'serverless-registry-config', operation: 'UPDATE', allowed: true, patched: false }, 'admission review');
    expect(logs.records()[0]).toMatchObject({ uid: 'u-1', namespace: 'team-a', name: 'serverless-registry-config', operation: 'UPDATE', allowed: true, patched: false });
  });
});
