import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdmissionHandler } from '../../src/admission/index.js';
import type { Logger } from '../../src/logger.js';
import type { Metrics } from '../../src/metrics/metrics.js';
import { createWebhookServer, REGISTRY_WEBHOOK_PATH } from '../../src/http/webhook-server.js';
import { mutateRegistrySecret } from '../../src/registry/index.js';
import { ensureDevCertificates } from '../../src/tls/dev-certificates.js';
import type { KeyPair } from '../../src/tls/types.js';
import { afterAll } from 'vitest';
import { captureLogs } from './log-capture.js';

let devPair: Promise<KeyPair & { ca: string; dir: string }> | undefined;
let certDir: string | undefined;

// Servers read CERT_DIR while the test file runs: remove it after the file (the next one makes its own).
afterAll(() => {
  if (certDir) rmSync(certDir, { recursive: true, force: true });
  certDir = undefined;
  devPair = undefined;
});

/** Dev certificates made once per test process with the production generator, in a temp dir. */
export function devCertificates(): Promise<KeyPair & { ca: string; dir: string }> {
  devPair ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rcw-certs-'));
    certDir = dir;
    await ensureDevCertificates(dir, { dnsNames: ['localhost'], log: captureLogs().log });
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return { dir, cert: read('tls.crt'), key: read('tls.key'), ca: read('ca.crt') };
  })();
  return devPair;
}

export interface TestWebhook {
  url: string;
  reviewUrl: string;
  ca: string;
  server: Awaited<ReturnType<typeof createWebhookServer>>;
  close(): Promise<void>;
}

/** Starts the production HTTPS webhook server on 127.0.0.1 with an ephemeral port. */
export async function startTestWebhook(options: { handler?: AdmissionHandler; log?: Logger; metrics?: Metrics; timeoutMarginMs?: number; maxEventLoopDelayMs?: number } = {}): Promise<TestWebhook> {
  const pair = await devCertificates();
  const server = await createWebhookServer({
    certificate: pair,
    log: options.log ?? captureLogs('warn').log,
    handler: options.handler ?? mutateRegistrySecret,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.timeoutMarginMs !== undefined ? { timeoutMarginMs: options.timeoutMarginMs } : {}),
    ...(options.maxEventLoopDelayMs !== undefined ? { maxEventLoopDelayMs: options.maxEventLoopDelayMs } : {}),
  });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const port = (server.server.address() as { port: number }).port;
  const url = `https://localhost:${port}`;
  return { url, reviewUrl: `${url}${REGISTRY_WEBHOOK_PATH}?timeout=10s`, ca: pair.ca, server, close: () => server.close() };
}
