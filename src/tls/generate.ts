import { type KeyObject, X509Certificate, createPrivateKey, createPublicKey, generateKeyPair, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate as PeculiarCertificate,
  X509CertificateGenerator,
} from '@peculiar/x509';
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

type KeyType = 'ec' | 'rsa';

// Node's own WebCrypto, passed to every call: no global provider to set or to depend on.
const crypto: webcrypto.Crypto = webcrypto;
const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * A CA with a new EC P-256 key, self-signed with ECDSA-SHA256: basicConstraints CA and keyUsage
 * keyCertSign + cRLSign (both critical) and a Subject Key Identifier, as RFC 5280 asks of a CA.
 */
export async function createCertificateAuthority(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
  checkCommonName(options.commonName);
  const { notBefore, notAfter } = validity(options.validityMs, options.now);
  const key = await newKey('ec');
  const publicKey = spkiOf(key);
  const name = [{ CN: [options.commonName] }];
  const cert = await X509CertificateGenerator.create(
    {
      subject: name,
      issuer: name,
      notBefore,
      notAfter,
      publicKey,
      signingKey: await signingKeyOf(key, 'ec'),
      extensions: [
        new BasicConstraintsExtension(true, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { cert: certificatePem(cert), key: privateKeyPem(key) };
}

/**
 * A serving certificate (serverAuth, not a CA) for the given DNS names and IP addresses, signed by
 * `ca`, with a Subject Key Identifier and an Authority Key Identifier naming the CA's key. Its key
 * has the CA key's type. It never outlives the CA: notAfter is capped at the CA's. Returns the
 * pair with `ca` set to the CA certificate.
 */
export async function createServingCertificate(options: ServingCertificateOptions): Promise<KeyPair & { ca: string }> {
  const dnsNames = [...new Set(options.dnsNames)];
  const ipAddresses = [...new Set(options.ipAddresses ?? [])];
  if (dnsNames.length === 0 && ipAddresses.length === 0) throw new Error('a serving certificate needs at least one DNS name or IP address');
  for (const name of dnsNames) checkDnsName(name);
  for (const ip of ipAddresses) if (isIP(ip) === 0) throw new Error(`not an IP address: "${ip}"`);
  const commonName = options.commonName ?? defaultCommonName(dnsNames, ipAddresses);
  checkCommonName(commonName);

  const altNames = [...dnsNames.map((value) => ({ type: 'dns' as const, value })), ...ipAddresses.map((value) => ({ type: 'ip' as const, value }))];
  return signLeaf(options, commonName, ExtendedKeyUsage.serverAuth, [new SubjectAlternativeNameExtension(altNames)]);
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
 * to the webhook when WEBHOOK_CLIENT_CA is set. Key type, identifiers and lifetime cap as for
 * serving certificates.
 */
export async function createClientCertificate(options: ClientCertificateOptions): Promise<KeyPair & { ca: string }> {
  checkCommonName(options.commonName);
  return signLeaf(options, options.commonName, ExtendedKeyUsage.clientAuth, []);
}

/** A leaf (not a CA) for one extended key usage, signed by `ca`, with SKI and AKI; never outlives the CA. */
async function signLeaf(
  options: { ca: CertificateAuthority; validityMs: number; now?: Date },
  commonName: string,
  usage: ExtendedKeyUsage,
  more: Extension[],
): Promise<KeyPair & { ca: string }> {
  const caCert = parseCaCertificate(options.ca.cert);
  const caKey = parseCaKey(options.ca.key);
  const keyType = caKey.asymmetricKeyType as KeyType;
  const { notBefore, notAfter } = validity(options.validityMs, options.now);
  const caNotAfter = new Date(caCert.validTo);
  const key = await newKey(keyType);
  const publicKey = spkiOf(key);
  const cert = await X509CertificateGenerator.create(
    {
      subject: [{ CN: [commonName] }],
      // The issuer name exactly as the CA certificate encodes it, so chain building matches bytes.
      issuer: new PeculiarCertificate(caCert.raw).subjectName,
      notBefore,
      notAfter: notAfter > caNotAfter ? caNotAfter : notAfter,
      publicKey,
      signingKey: await signingKeyOf(caKey, keyType),
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        // keyEncipherment only matters for RSA key exchange; ECDSA keys only sign.
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature | (keyType === 'rsa' ? KeyUsageFlags.keyEncipherment : 0), true),
        new ExtendedKeyUsageExtension([usage]),
        ...more,
        await SubjectKeyIdentifierExtension.create(publicKey, false, crypto),
        await authorityKeyIdentifier(caCert),
      ],
    },
    crypto,
  );
  return { cert: certificatePem(cert), key: privateKeyPem(key), ca: options.ca.cert };
}

/** The CA's Subject Key Identifier; for a CA without one (made elsewhere or by an older version), the same hash of its key. */
async function authorityKeyIdentifier(caCert: X509Certificate): Promise<Extension> {
  const ca = new PeculiarCertificate(caCert.raw);
  const ski = ca.getExtension(SubjectKeyIdentifierExtension);
  if (ski) return new AuthorityKeyIdentifierExtension(ski.keyId, false);
  return AuthorityKeyIdentifierExtension.create(ca.publicKey, false, crypto);
}

function newKey(keyType: KeyType): Promise<KeyObject> {
  const pair = keyType === 'ec' ? generateKeyPairAsync('ec', { namedCurve: 'P-256' }) : generateKeyPairAsync('rsa', { modulusLength: 2048 });
  return pair.then(({ privateKey }) => privateKey);
}

/** SubjectPublicKeyInfo DER of a private key's public half: what a certificate carries. */
function spkiOf(privateKey: KeyObject): ArrayBuffer {
  const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

/** ECDSA on the key's own curve or RSA PKCS#1 v1.5; the generator hashes with SHA-256 (its default) for both. */
async function signingKeyOf(privateKey: KeyObject, keyType: KeyType): Promise<webcrypto.CryptoKey> {
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const algorithm = keyType === 'ec' ? { name: 'ECDSA', namedCurve: webCryptoCurve(privateKey) } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return crypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
}

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

function webCryptoCurve(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
  const name = CURVES[curve];
  if (!name) throw new Error(`the CA key's curve "${curve}" is not supported (P-256, P-384 or P-521)`);
  return name;
}

/** PEM with a final newline, so files concatenate into bundles. */
function certificatePem(cert: PeculiarCertificate): string {
  return `${cert.toString('pem').trimEnd()}\n`;
}

/** PKCS#8 ("BEGIN PRIVATE KEY"), as kubernetes.io/tls Secrets and cert-manager commonly hold. */
function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
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

function parseCaKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error('the CA key is not a valid unencrypted PEM private key');
  }
  const type = key.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa') throw new Error(`the CA key type "${String(type)}" is not supported (ec or rsa)`);
  return key;
}

/** X.509 limits a common name to 64 characters; SANs are what clients check anyway. */
function defaultCommonName(dnsNames: readonly string[], ipAddresses: readonly string[]): string {
  return [...dnsNames, ...ipAddresses].find((name) => name.length <= 64) ?? 'serving-certificate';
}

// Plain names only: a subject that reads the same in every tool (no DN escaping to get wrong).
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
