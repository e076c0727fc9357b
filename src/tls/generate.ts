import { X509Certificate, createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import { generate } from 'selfsigned';
import type { KeyPair } from './types.js';

/** A certificate authority in PEM: its certificate and its private key. */
export interface CertificateAuthority {
  cert: string;
  key: string;
}

/**
 * notBefore is set this far in the past so a client whose clock runs behind ours (another node,
 * the API server) does not see a fresh certificate as "not yet valid". Same as client-go's helpers.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 60 * 60 * 1000;

export interface CertificateAuthorityOptions {
  commonName: string;
  validityMs: number;
  /** Defaults to the current time. */
  now?: Date;
}

export interface ServingCertificateOptions {
  ca: CertificateAuthority;
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
  validityMs: number;
  /** Defaults to the first DNS name (or IP address) short enough for a common name. */
  commonName?: string;
  /** Defaults to the current time. */
  now?: Date;
}

type GenerateOptions = NonNullable<Parameters<typeof generate>[1]>;

/** A CA (basicConstraints CA, keyCertSign) with a new EC P-256 key, self-signed with ECDSA-SHA256. */
export async function createCertificateAuthority(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
  checkCommonName(options.commonName);
  const { notBefore, notAfter } = validity(options.validityMs, options.now);
  const pems = await generate([{ name: 'commonName', value: options.commonName }], {
    ...keyOptions('ec'),
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/**
 * A serving certificate (serverAuth, not a CA) for the given DNS names and IP addresses, signed by
 * `ca`. Its key has the CA key's type (selfsigned signs with the algorithm of the new key). It never
 * outlives the CA: notAfter is capped at the CA's. Returns the pair with `ca` set to the CA certificate.
 */
export async function createServingCertificate(options: ServingCertificateOptions): Promise<KeyPair & { ca: string }> {
  const dnsNames = [...new Set(options.dnsNames)];
  const ipAddresses = [...new Set(options.ipAddresses ?? [])];
  if (dnsNames.length === 0 && ipAddresses.length === 0) throw new Error('a serving certificate needs at least one DNS name or IP address');
  for (const name of dnsNames) checkDnsName(name);
  for (const ip of ipAddresses) if (isIP(ip) === 0) throw new Error(`not an IP address: "${ip}"`);
  const commonName = options.commonName ?? defaultCommonName(dnsNames, ipAddresses);
  checkCommonName(commonName);

  const caCert = parseCaCertificate(options.ca.cert);
  const keyType = caKeyType(options.ca.key);
  const { notBefore, notAfter } = validity(options.validityMs, options.now);
  const caNotAfter = new Date(caCert.validTo);
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    ...keyOptions(keyType),
    notBeforeDate: notBefore,
    notAfterDate: notAfter > caNotAfter ? caNotAfter : notAfter,
    ca: { cert: options.ca.cert, key: options.ca.key },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      // keyEncipherment only matters for RSA key exchange; ECDSA keys only sign.
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: keyType === 'rsa', critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...dnsNames.map((value) => ({ type: 2 as const, value })), ...ipAddresses.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private, ca: options.ca.cert };
}

export interface ClientCertificateOptions {
  ca: CertificateAuthority;
  /** The client's name (kube-apiserver's own certificate usually says kube-apiserver or similar). */
  commonName: string;
  validityMs: number;
  /** Defaults to the current time. */
  now?: Date;
}

/**
 * A client certificate (clientAuth, not a CA) signed by `ca`, e.g. for kube-apiserver to present
 * to the webhook when WEBHOOK_CLIENT_CA is set. Key type and lifetime cap as for serving certificates.
 */
export async function createClientCertificate(options: ClientCertificateOptions): Promise<KeyPair & { ca: string }> {
  checkCommonName(options.commonName);
  const caCert = parseCaCertificate(options.ca.cert);
  const keyType = caKeyType(options.ca.key);
  const { notBefore, notAfter } = validity(options.validityMs, options.now);
  const caNotAfter = new Date(caCert.validTo);
  const pems = await generate([{ name: 'commonName', value: options.commonName }], {
    ...keyOptions(keyType),
    notBeforeDate: notBefore,
    notAfterDate: notAfter > caNotAfter ? caNotAfter : notAfter,
    ca: { cert: options.ca.cert, key: options.ca.key },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: keyType === 'rsa', critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  return { cert: pems.cert, key: pems.private, ca: options.ca.cert };
}

/** selfsigned signs with SHA-1 unless told otherwise; always SHA-256 here. */
function keyOptions(keyType: 'ec' | 'rsa'): GenerateOptions {
  return keyType === 'ec' ? { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } : { keyType: 'rsa', keySize: 2048, algorithm: 'sha256' };
}

function validity(validityMs: number, now: Date = new Date()): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(validityMs) || validityMs <= 0) throw new Error(`validity must be a positive number of milliseconds, got ${validityMs}`);
  return { notBefore: new Date(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS), notAfter: new Date(now.getTime() + validityMs) };
}

function parseCaCertificate(pem: string): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new Error('the CA certificate is not a valid PEM X.509 certificate');
  }
  if (!cert.ca) throw new Error(`the CA certificate (${cert.subject}) is not a CA (basicConstraints CA is not set)`);
  return cert;
}

function caKeyType(pem: string): 'ec' | 'rsa' {
  let type: string | undefined;
  try {
    type = createPrivateKey(pem).asymmetricKeyType;
  } catch {
    throw new Error('the CA key is not a valid unencrypted PEM private key');
  }
  if (type !== 'ec' && type !== 'rsa') throw new Error(`the CA key type "${String(type)}" is not supported (ec or rsa)`);
  return type;
}

/** X.509 limits a common name to 64 characters; SANs are what clients check anyway. */
function defaultCommonName(dnsNames: readonly string[], ipAddresses: readonly string[]): string {
  return [...dnsNames, ...ipAddresses].find((name) => name.length <= 64) ?? 'serving-certificate';
}

// selfsigned builds the subject as "CN=<value>" text: characters with a meaning in a DN are refused.
function checkCommonName(commonName: string): void {
  if (!/^[A-Za-z0-9 ._:*-]{1,64}$/.test(commonName)) {
    throw new Error(`invalid common name "${commonName}": use 1 to 64 letters, digits, spaces and . _ : * -`);
  }
}

/** A lowercase DNS name for a SAN, optionally a wildcard (`*.example.com`). */
export function isDnsName(name: string): boolean {
  const labels = (name.startsWith('*.') ? name.slice(2) : name).split('.');
  return name.length <= 253 && labels.every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label));
}

function checkDnsName(name: string): void {
  if (!isDnsName(name)) throw new Error(`not a lowercase DNS name: "${name}"`);
}
