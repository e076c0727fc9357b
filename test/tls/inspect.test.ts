import { beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority } from '../../src/tls/generate.js';
import { inspectCertificate, inspectKeyPair } from '../../src/tls/inspect.js';
import type { KeyPair } from '../../src/tls/types.js';
import { DAY_MS, fingerprintOf, localPair, testCa } from './support.js';

describe('inspectKeyPair', () => {
  let ca: CertificateAuthority;
  let good: KeyPair;
  let other: KeyPair;
  beforeAll(async () => {
    ca = await testCa();
    good = await localPair(ca);
    other = await localPair(ca);
  });

  /** No part of a key's base64 body may appear in an error text. */
  const expectNoKeyMaterial = (text: string, ...keys: string[]) => {
    expect(text).not.toMatch(/PRIVATE KEY/);
    for (const key of keys) {
      for (const line of key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) expect(text).not.toContain(line.slice(0, 20));
    }
  };

  it('accepts a matching, valid pair and reports its facts', () => {
    const result = inspectKeyPair(good);
    expect(result).toMatchObject({ ok: true, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], fingerprint: fingerprintOf(good.cert) });
    if (!result.ok) throw new Error(result.error);
    expect(result.notAfter.getTime()).toBeGreaterThan(Date.now() + 29 * DAY_MS);
    expect(result.notBefore.getTime()).toBeLessThan(Date.now());
  });

  it.each([
    ['garbage certificate', () => ({ cert: 'not a certificate', key: good.key }), /not PEM/],
    ['truncated certificate', () => ({ cert: good.cert.slice(0, good.cert.length / 2), key: good.key }), /not a valid PEM X\.509 certificate/],
    ['garbage key', () => ({ cert: good.cert, key: 'not a key' }), /private key is not a valid/],
    ['truncated key', () => ({ cert: good.cert, key: good.key.slice(0, 80) }), /private key is not a valid/],
    ['key of another certificate', () => ({ cert: good.cert, key: other.key }), /private key does not match the certificate \(CN=localhost\)/],
    ['certificate as key', () => ({ cert: good.cert, key: good.cert }), /private key is not a valid/],
  ])('refuses a %s', (_name, pair, error) => {
    const result = inspectKeyPair(pair());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(error);
    expectNoKeyMaterial(result.error, good.key, other.key);
  });

  it('refuses an expired certificate and one not yet valid', async () => {
    const expired = await localPair(ca, { now: new Date(Date.now() - 10 * DAY_MS), validityMs: DAY_MS });
    expect(inspectKeyPair(expired)).toMatchObject({ ok: false, error: expect.stringMatching(/expired at \d{4}-/) });
    // The same pair was fine while it was valid.
    expect(inspectKeyPair(expired, new Date(Date.now() - 10 * DAY_MS)).ok).toBe(true);
    expect(inspectKeyPair(good, new Date(Date.now() - 2 * DAY_MS))).toMatchObject({ ok: false, error: expect.stringMatching(/not valid before/) });
  });
});

describe('inspectCertificate', () => {
  it('reads a CA certificate and refuses garbage', async () => {
    const ca = await testCa();
    expect(inspectCertificate(ca.cert)).toMatchObject({ ok: true, fingerprint: fingerprintOf(ca.cert) });
    expect(inspectCertificate('junk', new Date(), 'CA certificate')).toEqual({ ok: false, error: 'the CA certificate is not PEM (no BEGIN CERTIFICATE block)' });
  });
});
