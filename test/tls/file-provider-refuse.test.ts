import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { FileCertificateProvider } from '../../src/tls/file-certificate-provider.js';
import type { CertificateAuthority } from '../../src/tls/generate.js';
import type { KeyPair } from '../../src/tls/types.js';
import { captureLogs } from '../support/log-capture.js';
import { DAY_MS, fingerprintOf, handshakeFingerprint, localPair, removeDir, SecretVolume, sleep, startHttpsServer, tempDir, testCa, waitFor } from './support.js';

const POLL_MS = 50;

describe('FileCertificateProvider refuses a bad pair on disk', () => {
  let ca: CertificateAuthority;
  let served: KeyPair;
  let good: KeyPair;
  let other: KeyPair;
  let expired: KeyPair;
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    ca = await testCa();
    [served, good, other] = await Promise.all([localPair(ca), localPair(ca), localPair(ca)]);
    expired = await localPair(ca, { now: new Date(Date.now() - 10 * DAY_MS), validityMs: DAY_MS });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(options: { now?: () => Date; settleMs?: number } = {}) {
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    // Changes go through ..data swaps (atomic, as kubelet does) unless a case is about plain writes,
    // so no intermediate state is seen and each case has exactly one bad content.
    const volume = new SecretVolume(dir);
    await volume.init(served);
    const metrics = createMetrics({ processMetrics: false });
    const logs = captureLogs('info');
    const provider = new FileCertificateProvider({ dir, pollIntervalMs: POLL_MS, settleMs: 30, log: logs.log, metrics, ...options });
    const https = await startHttpsServer(await provider.start());
    cleanups.push(() => provider.stop());
    cleanups.push(() => https.close());
    provider.subscribe((pair) => https.server.setSecureContext({ cert: pair.cert, key: pair.key }));
    const failures = async () => (await metrics.certificateReloads.get()).values.find((v) => v.labels.result === 'failure')?.value ?? 0;
    const successes = async () => (await metrics.certificateReloads.get()).values.find((v) => v.labels.result === 'success')?.value ?? 0;
    const errorLogs = () => logs.records().filter((r) => r.level === 'error');
    return { dir, volume, provider, logs, failures, successes, errorLogs, servedFingerprint: () => handshakeFingerprint(https.port, ca.cert) };
  }

  const cases: [string, (dir: string, volume: SecretVolume) => Promise<void>, RegExp][] = [
    ['a key that does not match the certificate', (_dir, volume) => volume.swap({ cert: good.cert, key: other.key }), /private key does not match the certificate/],
    ['an expired certificate', (_dir, volume) => volume.swap(expired), /certificate \(CN=localhost\) expired at/],
    ['garbage', (_dir, volume) => volume.swap({ cert: 'garbage\n', key: 'more garbage\n' }), /certificate is not PEM/],
    ['a half-written pair (only tls.crt replaced)', (dir) => writeFile(join(dir, 'tls.crt'), good.cert), /private key does not match the certificate/],
    ['a truncated certificate', (_dir, volume) => volume.swap({ cert: good.cert.slice(0, 200), key: good.key }), /not a valid PEM X\.509 certificate/],
    ['a missing key', (_dir, volume) => volume.swap({ cert: good.cert }), /tls\.key is missing/],
  ];

  it.each(cases)('%s: keeps serving the old pair, counts and logs the failure once, is not ready until a good pair comes', async (_name, spoil, reason) => {
    const { dir, volume, provider, logs, failures, successes, errorLogs, servedFingerprint } = await setup();
    expect(provider.readiness()).toEqual({ ok: true });

    await spoil(dir, volume);
    await waitFor(() => !provider.readiness().ok, 'readiness to turn false');
    const readiness = provider.readiness();
    expect(readiness.reason).toMatch(reason);
    expect(readiness.reason).toContain(`the certificate in ${dir} was refused`);
    expect(readiness.reason).toContain('still serving the previous one');
    expect(await servedFingerprint()).toBe(fingerprintOf(served.cert));
    expect(provider.current().cert).toBe(served.cert);

    // Several more polls of the same bad content: still one failure, one error line.
    await sleep(POLL_MS * 5);
    expect(await failures()).toBe(1);
    expect(errorLogs()).toHaveLength(1);
    expect(errorLogs()[0]?.msg).toMatch(reason);
    expect(errorLogs()[0]?.msg).toContain('still serving the previous one');
    expect(logs.text()).not.toMatch(/-----BEGIN|PRIVATE KEY-----/);
    for (const pem of [good.key, other.key, served.key]) expect(logs.text()).not.toContain(pem.split('\n')[1]);

    await volume.swap(good);
    await waitFor(async () => (await servedFingerprint()) === fingerprintOf(good.cert), 'the good pair to be served');
    expect(provider.readiness()).toEqual({ ok: true });
    expect(await successes()).toBe(1);
    expect(await failures()).toBe(1);
  });

  it('a second, different bad content is reported again; reverting to the served pair makes it ready again', async () => {
    const { volume, provider, failures, errorLogs } = await setup();
    await volume.swap({ cert: good.cert, key: other.key });
    await waitFor(async () => (await failures()) === 1, 'the first failure');
    await volume.swap({ cert: other.cert, key: good.key });
    await waitFor(async () => (await failures()) === 2, 'the second failure');
    expect(errorLogs()).toHaveLength(2);
    await volume.swap(served);
    await waitFor(() => provider.readiness().ok, 'readiness after reverting');
    expect(provider.current().cert).toBe(served.cert);
  });

  it('a certificate with a momentarily mismatched key (written one file after the other) is never refused', async () => {
    const { dir, failures, successes } = await setup({ settleMs: 200 });
    // Polls (every 50 ms) see the new tls.crt with the old tls.key for 100 ms; it must last 200 ms to count.
    await writeFile(join(dir, 'tls.crt'), good.cert);
    await sleep(100);
    await writeFile(join(dir, 'tls.key'), good.key);
    await waitFor(async () => (await successes()) === 1, 'the reload');
    await sleep(POLL_MS * 2);
    expect(await failures()).toBe(0);
  });

  it('a certificate refused as not yet valid is taken once the clock reaches its notBefore, without a file change', async () => {
    let clock = Date.now();
    const { volume, provider, failures, successes } = await setup({ now: () => new Date(clock) });
    const future = await localPair(ca, { now: new Date(Date.now() + 2 * DAY_MS) });
    await volume.swap(future);
    await waitFor(async () => (await failures()) === 1, 'the refusal');
    expect(provider.readiness().reason).toMatch(/not valid before/);
    clock += 2 * DAY_MS;
    await waitFor(async () => (await successes()) === 1, 'the reload');
    // Not checked with a handshake: the client's clock is the real one.
    expect(provider.current().cert).toBe(future.cert);
    expect(provider.readiness()).toEqual({ ok: true });
  });

  it('is not ready once the served certificate expires', async () => {
    let clock = Date.now();
    const { provider } = await setup({ now: () => new Date(clock) });
    expect(provider.readiness().ok).toBe(true);
    clock += 31 * DAY_MS;
    expect(provider.readiness()).toMatchObject({ ok: false, reason: expect.stringMatching(/^the served certificate expired at \d{4}-/) });
  });

  it('a bad ca.crt next to a good pair does not stop the pair; it is ignored with a warning', async () => {
    const { volume, provider, logs, successes } = await setup();
    await volume.swap({ cert: good.cert, key: good.key, ca: 'not a CA' });
    await waitFor(async () => (await successes()) === 1, 'the reload');
    expect(provider.current()).toEqual({ cert: good.cert, key: good.key });
    expect(logs.records().filter((r) => r.level === 'warn').map((r) => r.msg)).toEqual([expect.stringMatching(/ignoring ca\.crt .*not PEM/)]);
  });
});
