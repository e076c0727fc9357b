import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, expect, it } from 'vitest';
import { FileCertificateProvider } from '../../src/tls/file-certificate-provider.js';
import { captureLogs } from '../support/log-capture.js';
import { SecretVolume, fingerprintOf, localPair, removeDir, startHttpsServer, tempDir, testCa, waitFor, writePair } from './support.js';

/** New connections in all; each handshake costs a few ms of CPU on both ends in this one process. */
const REQUESTS = 200;
const ROTATIONS = 4;

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A request on a new connection (no agent, no keep-alive); resolves with the served fingerprint. */
function getOnNewConnection(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: 'localhost', path: '/', ca, agent: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(fingerprint) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

it.each([
  ['plain file writes', 'files'],
  ['Secret volume swaps', 'volume'],
] as const)('no request fails while the certificate rotates under load (%s)', async (_name, layout) => {
  const ca = await testCa();
  const pairs = await Promise.all(Array.from({ length: ROTATIONS + 1 }, () => localPair(ca)));
  const [first, ...next] = pairs as [(typeof pairs)[0], ...typeof pairs];
  const dir = await tempDir();
  cleanups.push(() => removeDir(dir));
  const volume = new SecretVolume(dir);
  if (layout === 'volume') await volume.init(first);
  else await writePair(dir, first);

  const provider = new FileCertificateProvider({ dir, pollIntervalMs: 50, settleMs: 20, log: captureLogs('warn').log });
  const https = await startHttpsServer(await provider.start());
  cleanups.push(() => https.close());
  cleanups.push(() => provider.stop());
  provider.subscribe((pair) => https.server.setSecureContext({ cert: pair.cert, key: pair.key }));

  const seen = new Map<string, number>();
  const failures: string[] = [];
  let requests = 0;
  let rotating = true;
  const worker = async () => {
    while (rotating || requests < REQUESTS) {
      requests++;
      try {
        const fingerprint = await getOnNewConnection(https.port, ca.cert);
        seen.set(fingerprint, (seen.get(fingerprint) ?? 0) + 1);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);

  for (const pair of next) {
    if (layout === 'volume') await volume.swap(pair);
    else await writePair(dir, pair);
    // Rotate again only once load traffic got this certificate.
    await waitFor(() => seen.has(fingerprintOf(pair.cert)), 'load traffic to see the rotated certificate');
  }
  rotating = false;
  await Promise.all(workers);

  expect(failures).toEqual([]);
  expect(requests).toBeGreaterThanOrEqual(REQUESTS);
  expect([...seen.keys()].sort()).toEqual(pairs.map((p) => fingerprintOf(p.cert)).sort());
});
