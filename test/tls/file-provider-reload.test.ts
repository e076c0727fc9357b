import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { FileCertificateProvider } from '../../src/tls/file-certificate-provider.js';
import type { CertificateAuthority } from '../../src/tls/generate.js';
import type { KeyPair } from '../../src/tls/types.js';
import { captureLogs } from '../support/log-capture.js';
import { SecretVolume, fingerprintOf, handshakeFingerprint, localPair, removeDir, startHttpsServer, tempDir, testCa, waitFor, writePair } from './support.js';

const POLL_MS = 100;

/** GET / over `agent`; the fingerprint of the certificate on the connection and whether it was reused. */
function get(port: number, ca: string, agent: Agent): Promise<{ fingerprint: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: 'localhost', path: '/', ca, agent }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ fingerprint, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('FileCertificateProvider reloads a real HTTPS server', () => {
  let ca: CertificateAuthority;
  let pairs: (KeyPair & { ca: string })[];
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    ca = await testCa();
    pairs = await Promise.all([localPair(ca), localPair(ca), localPair(ca)]);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Provider on `dir` feeding an HTTPS server through subscribe + setSecureContext. */
  async function serve(dir: string, options: { watch?: boolean; pollIntervalMs?: number } = {}) {
    const metrics = createMetrics({ processMetrics: false });
    const logs = captureLogs('info');
    const provider = new FileCertificateProvider({ dir, pollIntervalMs: POLL_MS, settleMs: 30, log: logs.log, metrics, ...options });
    const first = await provider.start();
    cleanups.push(() => provider.stop());
    const https = await startHttpsServer(first);
    cleanups.push(() => https.close());
    provider.subscribe((pair) => https.server.setSecureContext({ cert: pair.cert, key: pair.key }));
    const served = () => handshakeFingerprint(https.port, ca.cert);
    return { provider, metrics, logs, port: https.port, served };
  }

  it('serves the new pair after tls.crt and tls.key are replaced; an open keep-alive connection keeps working', async () => {
    const [a, b] = pairs as [KeyPair, KeyPair];
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    await writePair(dir, a);
    // A poll too slow to matter: fs.watch alone must notice the change.
    const { metrics, served, port, provider } = await serve(dir, { pollIntervalMs: 60_000 });
    expect(await served()).toBe(fingerprintOf(a.cert));

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    expect(await get(port, ca.cert, agent)).toEqual({ fingerprint: fingerprintOf(a.cert), reused: false });

    await writePair(dir, b);
    const replacedAt = Date.now();
    await waitFor(async () => (await served()) === fingerprintOf(b.cert), 'the new certificate to be served');
    expect(Date.now() - replacedAt).toBeLessThan(POLL_MS * 5);
    expect(provider.current().cert).toBe(b.cert);

    // The connection opened before the swap still works, with the certificate it was opened with.
    expect(await get(port, ca.cert, agent)).toEqual({ fingerprint: fingerprintOf(a.cert), reused: true });

    expect((await metrics.certificateReloads.get()).values).toEqual([{ labels: { result: 'success' }, value: 1 }]);
    const expiry = (await metrics.certificateExpiry.get()).values;
    expect(expiry).toContainEqual({ labels: { certificate: 'serving' }, value: new Date(new X509Certificate(b.cert).validTo).getTime() / 1000 });
    expect(expiry.map((v) => v.labels.certificate).sort()).toEqual(['ca', 'serving']);
    expect(provider.readiness()).toEqual({ ok: true });
  });

  it.each([
    ['with fs.watch', true],
    ['by polling alone', false],
  ])('reloads when a Secret volume swaps its ..data symlink (%s)', async (_name, watch) => {
    const [a, b, c] = pairs as [KeyPair, KeyPair, KeyPair];
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    const volume = new SecretVolume(dir);
    await volume.init(a);
    const { served, logs, metrics } = await serve(dir, { watch });
    expect(await served()).toBe(fingerprintOf(a.cert));

    for (const next of [b, c]) {
      const swappedAt = Date.now();
      await volume.swap(next);
      await waitFor(async () => (await served()) === fingerprintOf(next.cert), 'the swapped certificate to be served');
      expect(Date.now() - swappedAt).toBeLessThan(POLL_MS * 5);
    }
    expect((await metrics.certificateReloads.get()).values).toEqual([{ labels: { result: 'success' }, value: 2 }]);
    expect(logs.records().filter((r) => r.level === 'error')).toEqual([]);
  });

  it('does not reload (nor notify) when files are rewritten with the same bytes', async () => {
    const [a] = pairs as [KeyPair];
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    await writePair(dir, a);
    const { provider, metrics } = await serve(dir);
    let notified = 0;
    provider.subscribe(() => notified++);
    await writePair(dir, a);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 3));
    expect(notified).toBe(0);
    expect((await metrics.certificateReloads.get()).values).toEqual([]);
  });

  it('stop() ends watching and polling', async () => {
    const [a, b] = pairs as [KeyPair, KeyPair];
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    await writePair(dir, a);
    const { provider } = await serve(dir);
    await provider.stop();
    await writePair(dir, b);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 3));
    expect(provider.current().cert).toBe(a.cert);
  });

  it('start() rejects with a clear error when the directory has no usable pair, without key material', async () => {
    const [a, b] = pairs as [KeyPair, KeyPair];
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    const logs = captureLogs();
    await expect(new FileCertificateProvider({ dir, log: logs.log }).start()).rejects.toThrow(`no usable serving certificate in ${dir}: tls.crt is missing`);
    await writePair(dir, { cert: a.cert, key: b.key });
    const failure = new FileCertificateProvider({ dir, log: logs.log }).start();
    await expect(failure).rejects.toThrow(/the private key does not match the certificate/);
    await expect(failure).rejects.not.toThrow(/PRIVATE KEY/);
  });
});
