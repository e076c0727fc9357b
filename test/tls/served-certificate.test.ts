import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { CertificateFacts } from '../../src/tls/inspect.js';
import { ServedCertificate } from '../../src/tls/served-certificate.js';
import type { KeyPair } from '../../src/tls/types.js';
import { captureLogs } from '../support/log-capture.js';

const NOT_BEFORE = new Date('2030-01-01T00:00:00Z');
const NOT_AFTER = new Date('2030-02-01T00:00:00Z');

function facts(fingerprint: string): CertificateFacts {
  return { notBefore: NOT_BEFORE, notAfter: NOT_AFTER, dnsNames: ['localhost'], ipAddresses: [], fingerprint };
}

function setup() {
  const logs = captureLogs('info');
  const metrics = createMetrics({ processMetrics: false });
  const served = new ServedCertificate({ log: logs.log, logContext: { dir: '/certs' }, metrics });
  const servingExpiry = async () => (await metrics.certificateExpiry.get()).values.find((v) => v.labels.certificate === 'serving')?.value;
  return { logs, served, servingExpiry };
}

const a: KeyPair = { cert: 'cert A', key: 'key A' };
const b: KeyPair = { cert: 'cert B', key: 'key B' };
const c: KeyPair = { cert: 'cert C', key: 'key C' };

describe('ServedCertificate', () => {
  it('throws and is not ready before the first pair', () => {
    const { served } = setup();
    expect(() => served.current()).toThrow('certificate provider not started');
    expect(served.served).toBeUndefined();
    expect(served.validity(new Date('2030-01-15T00:00:00Z'))).toEqual({ ok: false, reason: 'no serving certificate loaded yet' });
  });

  it('serves pairs, sets the serving expiry gauge, and notifies subscribers of replacements only', async () => {
    const { served, servingExpiry } = setup();
    const seen: KeyPair[] = [];
    const unsubscribe = served.subscribe((pair) => seen.push(pair));

    served.serve(a, 'hash A', facts('AA'));
    expect(served.current()).toBe(a);
    expect(served.served).toEqual({ pair: a, hash: 'hash A', facts: facts('AA') });
    expect(await servingExpiry()).toBe(NOT_AFTER.getTime() / 1000);
    expect(seen).toEqual([]);

    served.serve(b, 'hash B', facts('BB'));
    expect(served.current()).toBe(b);
    expect(seen).toEqual([b]);

    unsubscribe();
    served.serve(c, 'hash C', facts('CC'));
    expect(seen).toEqual([b]);
  });

  it('isolates a failing subscriber and logs it with the source context', () => {
    const { served, logs } = setup();
    const seen: KeyPair[] = [];
    served.subscribe(() => {
      throw new Error('boom');
    });
    served.subscribe((pair) => seen.push(pair));
    served.serve(a, 'hash A', facts('AA'));
    served.serve(b, 'hash B', facts('BB'));
    expect(served.current()).toBe(b);
    expect(seen).toEqual([b]);
    const errors = logs.records().filter((r) => r.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ dir: '/certs', msg: 'a certificate subscriber failed to take the new certificate' });
  });

  it('reports expiry and not-yet-valid, and nothing while valid', () => {
    const { served } = setup();
    served.serve(a, 'hash A', facts('AA'));
    expect(served.validity(new Date('2030-01-15T00:00:00Z'))).toBeUndefined();
    expect(served.validity(new Date('2030-03-01T00:00:00Z'))).toEqual({ ok: false, reason: 'the served certificate expired at 2030-02-01T00:00:00.000Z' });
    expect(served.validity(new Date('2029-12-01T00:00:00Z'))).toEqual({ ok: false, reason: 'the served certificate is not valid before 2030-01-01T00:00:00.000Z' });
  });
});
