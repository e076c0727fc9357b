import { X509Certificate } from 'node:crypto';
import { mkdtemp, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { type CertificateAuthority, createCertificateAuthority, createServingCertificate } from '../../src/tls/generate.js';
import type { KeyPair } from '../../src/tls/types.js';

export const DAY_MS = 24 * 60 * 60 * 1000;
export const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
export const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'rcw-tls-test-'));
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

export function testCa(now?: Date): Promise<CertificateAuthority> {
  return createCertificateAuthority({ commonName: 'test CA', validityMs: 365 * DAY_MS, ...(now ? { now } : {}) });
}

/** A serving pair for localhost and 127.0.0.1 signed by `ca`. */
export function localPair(ca: CertificateAuthority, options: { validityMs?: number; now?: Date } = {}): Promise<KeyPair & { ca: string }> {
  return createServingCertificate({
    ca,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    validityMs: options.validityMs ?? 30 * DAY_MS,
    ...(options.now ? { now: options.now } : {}),
  });
}

export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** Writes the pair the way a person or a script does: plain writes, key first, then certificate. */
export async function writePair(dir: string, pair: KeyPair): Promise<void> {
  await writeFile(join(dir, 'tls.key'), pair.key);
  await writeFile(join(dir, 'tls.crt'), pair.cert);
  if (pair.ca !== undefined) await writeFile(join(dir, 'ca.crt'), pair.ca);
}

export type VolumeFiles = Partial<KeyPair>;

/**
 * The layout kubelet gives a Secret volume: files in a timestamped dir, `..data` pointing at it,
 * and each key a symlink through `..data`. `swap` replaces the content the way kubelet does.
 */
export class SecretVolume {
  private generation = 0;
  private current: string | undefined;

  constructor(readonly dir: string) {}

  async init(pair: VolumeFiles): Promise<void> {
    await this.writeGeneration(pair);
    for (const file of ['tls.crt', 'tls.key', 'ca.crt']) await symlink(join('..data', file), join(this.dir, file));
  }

  /** Files left out are missing in the new generation (their symlinks dangle). */
  async swap(pair: VolumeFiles): Promise<void> {
    const previous = this.current;
    await this.writeGeneration(pair);
    if (previous) await rm(join(this.dir, previous), { recursive: true, force: true });
  }

  private async writeGeneration(pair: VolumeFiles): Promise<void> {
    this.generation++;
    const name = `..2026_01_01_00_00_00.00000000${this.generation}`;
    await mkdir(join(this.dir, name));
    if (pair.cert !== undefined) await writeFile(join(this.dir, name, 'tls.crt'), pair.cert);
    if (pair.key !== undefined) await writeFile(join(this.dir, name, 'tls.key'), pair.key);
    if (pair.ca !== undefined) await writeFile(join(this.dir, name, 'ca.crt'), pair.ca);
    // Atomic switch: a new symlink renamed over ..data.
    await symlink(name, join(this.dir, '..data_tmp'));
    await rename(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    this.current = name;
  }
}

/** An HTTPS server answering "ok" that takes each pair the subscriber hands it, as the webhook server does. */
export async function startHttpsServer(pair: KeyPair): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer({ cert: pair.cert, key: pair.key }, (_req, res) => {
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A TLS handshake trusting only `ca`; returns the fingerprint of the certificate served. */
export function handshakeFingerprint(port: number, ca: string, host = '127.0.0.1', servername: string | undefined = 'localhost'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ca, ...(servername ? { servername } : {}) }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on('error', reject);
  });
}

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The signatureAlgorithm OID of a PEM certificate, read from the DER (node 20's X509Certificate
 * does not expose it): Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }.
 */
export function signatureAlgorithmOid(pem: string): string {
  const der = new X509Certificate(pem).raw;
  const certificate = readTlv(der, 0);
  const tbs = readTlv(der, certificate.start);
  const algorithm = readTlv(der, tbs.end);
  const oid = readTlv(der, algorithm.start);
  if (oid.tag !== 0x06) throw new Error('no OID in signatureAlgorithm');
  return decodeOid(der.subarray(oid.start, oid.end));
}

function readTlv(der: Buffer, offset: number): { tag: number; start: number; end: number } {
  const tag = der[offset] as number;
  let length = der[offset + 1] as number;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[start++] as number);
  }
  return { tag, start, end: start + length };
}

function decodeOid(bytes: Buffer): string {
  const first = bytes[0] as number;
  const arcs = [Math.floor(first / 40), first % 40];
  let value = 0;
  for (const byte of bytes.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}
