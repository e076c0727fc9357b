import { type KeyObject, X509Certificate, createPrivateKey } from 'node:crypto';
import { AuthorityKeyIdentifierExtension, X509Certificate as ParsedCertificate, SubjectKeyIdentifierExtension } from '@peculiar/x509';
import type { KeyPair } from './types.js';

export interface CertificateFacts {
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  ipAddresses: string[];
  /** SHA-256 fingerprint, colon-separated hex (as `X509Certificate.fingerprint256`). */
  fingerprint: string;
}

export type CertificateInspection = ({ ok: true } & CertificateFacts) | { ok: false; error: string };

/**
 * Whether a key pair can be served: both parse, the key belongs to the certificate, and the
 * certificate is valid at `now`. With a chain in `cert`, the first certificate is the leaf.
 * Error texts name the problem only; they never quote PEM content.
 */
export function inspectKeyPair(pair: KeyPair, now: Date = new Date()): CertificateInspection {
  const cert = parseCertificate(pair.cert, 'certificate');
  if (!(cert instanceof X509Certificate)) return cert;
  let key: KeyObject;
  try {
    key = createPrivateKey(pair.key);
  } catch {
    return { ok: false, error: 'the private key is not a valid unencrypted PEM private key' };
  }
  if (!keyMatches(cert, key)) return { ok: false, error: `the private key does not match the certificate (${subjectOf(cert)})` };
  return checkValidity(cert, now);
}

/** A single certificate (a CA, say): parses and is valid at `now`. */
export function inspectCertificate(pem: string, now: Date = new Date(), what = 'certificate'): CertificateInspection {
  const cert = parseCertificate(pem, what);
  if (!(cert instanceof X509Certificate)) return cert;
  return checkValidity(cert, now, what);
}

function parseCertificate(pem: string, what: string): X509Certificate | { ok: false; error: string } {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return { ok: false, error: `the ${what} is not PEM (no BEGIN CERTIFICATE block)` };
  try {
    return new X509Certificate(pem);
  } catch {
    return { ok: false, error: `the ${what} is not a valid PEM X.509 certificate (truncated or corrupt)` };
  }
}

function keyMatches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    // Throws for key types that cannot belong to a certificate (e.g. a secret key).
    return false;
  }
}

function checkValidity(cert: X509Certificate, now: Date, what = 'certificate'): CertificateInspection {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    return { ok: false, error: `the ${what} has unreadable validity dates` };
  }
  if (now.getTime() > notAfter.getTime()) return { ok: false, error: `the ${what} (${subjectOf(cert)}) expired at ${notAfter.toISOString()}` };
  if (now.getTime() < notBefore.getTime()) return { ok: false, error: `the ${what} (${subjectOf(cert)}) is not valid before ${notBefore.toISOString()}` };
  const { dnsNames, ipAddresses } = subjectAltNames(cert);
  return { ok: true, notBefore, notAfter, dnsNames, ipAddresses, fingerprint: cert.fingerprint256 };
}

/** One line: Node separates the RDNs of a subject with newlines. */
function subjectOf(cert: X509Certificate): string {
  return cert.subject.split('\n').join(', ');
}

/** Node renders SANs as `DNS:a, IP Address:127.0.0.1` (names with a comma are quoted; DNS names have none). */
function subjectAltNames(cert: X509Certificate): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const entry of (cert.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) dnsNames.push(entry.slice(4));
    else if (entry.startsWith('IP Address:')) ipAddresses.push(entry.slice(11));
  }
  return { dnsNames, ipAddresses };
}

/**
 * Which key identifiers a certificate carries. Strict X.509 clients (OpenSSL's -x509_strict,
 * Python >= 3.13) refuse a CA without a Subject Key Identifier and a leaf without an Authority Key
 * Identifier; older versions of this server made both without. Unparsable: neither.
 */
export function keyIdentifiersOf(pem: string): { subject: boolean; authority: boolean } {
  try {
    const cert = new ParsedCertificate(pem);
    return { subject: cert.getExtension(SubjectKeyIdentifierExtension) !== null, authority: cert.getExtension(AuthorityKeyIdentifierExtension) !== null };
  } catch {
    return { subject: false, authority: false };
  }
}
