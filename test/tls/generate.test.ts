import { X509Certificate, createPrivateKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_ALLOWANCE_MS, type CertificateAuthority, createCertificateAuthority, createServingCertificate } from '../../src/tls/generate.js';
import { DAY_MS, ECDSA_WITH_SHA256, SERVER_AUTH, signatureAlgorithmOid } from './support.js';

const now = new Date('2026-03-01T12:00:00Z');

describe('createCertificateAuthority', () => {
  let ca: CertificateAuthority;
  let cert: X509Certificate;
  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: 'webhook CA', validityMs: 3650 * DAY_MS, now });
    cert = new X509Certificate(ca.cert);
  });

  it('is a self-signed CA with the given common name', () => {
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=webhook CA');
    expect(cert.issuer).toBe('CN=webhook CA');
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.key))).toBe(true);
  });

  it('has an EC P-256 key and an ECDSA-SHA256 signature, and a PKCS#8 PEM key', () => {
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(signatureAlgorithmOid(ca.cert)).toBe(ECDSA_WITH_SHA256);
    expect(ca.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect(ca.cert).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
  });

  it('is valid from an hour before now for the requested time', () => {
    expect(new Date(cert.validFrom).getTime()).toBe(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS);
    expect(new Date(cert.validTo).getTime()).toBe(now.getTime() + 3650 * DAY_MS);
  });

  it('refuses a common name that would break the subject, and a non-positive validity', async () => {
    await expect(createCertificateAuthority({ commonName: 'a,CN=b', validityMs: DAY_MS })).rejects.toThrow(/invalid common name/);
    await expect(createCertificateAuthority({ commonName: 'ca', validityMs: 0 })).rejects.toThrow(/validity must be a positive/);
  });
});

describe('createServingCertificate', () => {
  let ca: CertificateAuthority;
  let caCert: X509Certificate;
  let pair: { cert: string; key: string; ca: string };
  let cert: X509Certificate;
  const dnsNames = ['webhook', 'webhook.kyma-system', 'webhook.kyma-system.svc', 'webhook.kyma-system.svc.cluster.local'];
  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: 'webhook CA', validityMs: 3650 * DAY_MS, now });
    caCert = new X509Certificate(ca.cert);
    pair = await createServingCertificate({ ca, dnsNames, ipAddresses: ['127.0.0.1', '::1'], validityMs: 90 * DAY_MS, now });
    cert = new X509Certificate(pair.cert);
  });

  it('is issued and signed by the CA, and returns the CA certificate with the pair', () => {
    expect(cert.issuer).toBe(caCert.subject);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(pair.ca).toBe(ca.cert);
    expect(cert.checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
  });

  it('does not verify against another CA', async () => {
    const other = new X509Certificate((await createCertificateAuthority({ commonName: 'webhook CA', validityMs: DAY_MS })).cert);
    expect(cert.verify(other.publicKey)).toBe(false);
  });

  it('is a serverAuth leaf (not a CA) with an EC P-256 key and an ECDSA-SHA256 signature', () => {
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual([SERVER_AUTH]);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(signatureAlgorithmOid(pair.cert)).toBe(ECDSA_WITH_SHA256);
  });

  it('has DNS and IP subject alternative names', () => {
    expect(cert.subjectAltName).toBe(
      'DNS:webhook, DNS:webhook.kyma-system, DNS:webhook.kyma-system.svc, DNS:webhook.kyma-system.svc.cluster.local, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    for (const name of dnsNames) expect(cert.checkHost(name)).toBe(name);
    expect(cert.checkHost('other.kyma-system.svc')).toBeUndefined();
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.subject).toBe('CN=webhook');
  });

  it('is valid from an hour before now for the requested time', () => {
    expect(new Date(cert.validFrom).getTime()).toBe(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS);
    expect(new Date(cert.validTo).getTime()).toBe(now.getTime() + 90 * DAY_MS);
  });

  it('never outlives its CA', async () => {
    const shortCa = await createCertificateAuthority({ commonName: 'short CA', validityMs: 10 * DAY_MS, now });
    const leaf = await createServingCertificate({ ca: shortCa, dnsNames: ['a'], validityMs: 90 * DAY_MS, now });
    expect(new X509Certificate(leaf.cert).validTo).toBe(new X509Certificate(shortCa.cert).validTo);
  });

  it('refuses no names, a bad DNS name, a bad IP address, and a non-CA issuer', async () => {
    await expect(createServingCertificate({ ca, dnsNames: [], validityMs: DAY_MS })).rejects.toThrow(/at least one DNS name or IP/);
    await expect(createServingCertificate({ ca, dnsNames: ['Bad_Name'], validityMs: DAY_MS })).rejects.toThrow(/not a lowercase DNS name/);
    await expect(createServingCertificate({ ca, dnsNames: ['a'], ipAddresses: ['1.2.3'], validityMs: DAY_MS })).rejects.toThrow(/not an IP address/);
    await expect(createServingCertificate({ ca: { cert: pair.cert, key: pair.key }, dnsNames: ['a'], validityMs: DAY_MS })).rejects.toThrow(/is not a CA/);
  });
});
