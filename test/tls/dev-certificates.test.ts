import { X509Certificate } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDevCertificates, serviceDnsNames } from '../../src/tls/dev-certificates.js';
import { inspectKeyPair } from '../../src/tls/inspect.js';
import { captureLogs } from '../support/log-capture.js';
import { fingerprintOf, handshakeFingerprint, removeDir, startHttpsServer, tempDir } from './support.js';

const FILES = ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'];

describe('serviceDnsNames', () => {
  it('lists the in-cluster names of a Service, short to fully qualified', () => {
    expect(serviceDnsNames('webhook', 'kyma-system')).toEqual(['webhook', 'webhook.kyma-system', 'webhook.kyma-system.svc', 'webhook.kyma-system.svc.cluster.local']);
  });
});

describe('ensureDevCertificates', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await removeDir(dir);
  });
  const newDir = async () => {
    const dir = await tempDir();
    dirs.push(dir);
    return join(dir, 'nested', 'certs');
  };
  const read = (dir: string, file: string) => readFile(join(dir, file), 'utf8');

  it('generates a CA and a serving pair once, keys readable by the owner only, and says where ca.crt is', async () => {
    const dir = await newDir();
    const logs = captureLogs('info');
    const dnsNames = serviceDnsNames('webhook', 'kyma-system');
    expect(await ensureDevCertificates(dir, { dnsNames, log: logs.log })).toBe(true);

    for (const file of ['ca.key', 'tls.key']) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(await read(dir, 'tls.crt'));
    const ca = new X509Certificate(await read(dir, 'ca.crt'));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(ca.ca).toBe(true);
    expect(inspectKeyPair({ cert: await read(dir, 'tls.crt'), key: await read(dir, 'tls.key') })).toMatchObject({
      ok: true,
      dnsNames: ['localhost', ...dnsNames],
      ipAddresses: ['127.0.0.1', '0:0:0:0:0:0:0:1'],
    });

    const info = logs.records().filter((r) => r.level === 'info');
    expect(info).toHaveLength(1);
    expect(info[0]?.msg).toContain(join(dir, 'ca.crt'));
    expect(logs.text()).not.toMatch(/-----BEGIN/);

    // Second call: nothing is rewritten.
    const before = await Promise.all(FILES.map(async (f) => ({ content: await read(dir, f), mtime: (await stat(join(dir, f))).mtimeMs })));
    expect(await ensureDevCertificates(dir, { dnsNames, log: logs.log })).toBe(false);
    const after = await Promise.all(FILES.map(async (f) => ({ content: await read(dir, f), mtime: (await stat(join(dir, f))).mtimeMs })));
    expect(after).toEqual(before);
    expect(logs.records()).toHaveLength(1);
  });

  it('serves localhost and 127.0.0.1 to a client trusting only the written ca.crt', async () => {
    const dir = await newDir();
    await ensureDevCertificates(dir, { dnsNames: [], log: captureLogs().log });
    const pair = { cert: await read(dir, 'tls.crt'), key: await read(dir, 'tls.key') };
    const ca = await read(dir, 'ca.crt');
    const https = await startHttpsServer(pair);
    try {
      expect(await handshakeFingerprint(https.port, ca, '127.0.0.1', 'localhost')).toBe(fingerprintOf(pair.cert));
      expect(await handshakeFingerprint(https.port, ca, '127.0.0.1', undefined)).toBe(fingerprintOf(pair.cert));
      await expect(handshakeFingerprint(https.port, ca, '127.0.0.1', 'elsewhere.example')).rejects.toThrow(/altnames/);
    } finally {
      await https.close();
    }
  });

  it('leaves a half pair alone, and reuses a valid CA already there', async () => {
    const dir = await newDir();
    await ensureDevCertificates(dir, { dnsNames: [], log: captureLogs().log });
    const ca = await read(dir, 'ca.crt');
    await writeFile(join(dir, 'tls.key'), 'somebody else\'s key');
    await rm(join(dir, 'tls.crt'));
    expect(await ensureDevCertificates(dir, { dnsNames: [], log: captureLogs().log })).toBe(false);
    expect(await read(dir, 'tls.key')).toBe('somebody else\'s key');

    await rm(join(dir, 'tls.key'));
    expect(await ensureDevCertificates(dir, { dnsNames: ['other'], log: captureLogs().log })).toBe(true);
    expect(await read(dir, 'ca.crt')).toBe(ca);
    expect(new X509Certificate(await read(dir, 'tls.crt')).checkIssued(new X509Certificate(ca))).toBe(true);
  });
});
