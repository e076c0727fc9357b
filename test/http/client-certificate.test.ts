/**
 * WEBHOOK_CLIENT_CA on the whole server: the admission path answers only clients presenting a
 * certificate signed by that CA (401 before the body is read otherwise); the resolver API on the
 * same port is unaffected. Certificates are made with the project's own generator.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClientCaBundle } from '../../src/http/client-certificate.js';
import type { AddressInfo } from 'node:net';
import { createWebhookServer, REGISTRY_WEBHOOK_PATH } from '../../src/http/webhook-server.js';
import { mutateRegistrySecret } from '../../src/registry/index.js';
import type { RunningServer } from '../../src/server.js';
import { createCertificateAuthority, createClientCertificate, createServingCertificate, type CertificateAuthority } from '../../src/tls/generate.js';
import { recordedAdmissionReviews } from '../support/fixtures.js';
import { httpsCall } from '../support/https-client.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestServer } from '../support/server.js';

const DAY = 24 * 60 * 60 * 1000;

let dir: string;
let server: RunningServer;
let serverCa: string;
let clientCa: CertificateAuthority;
let otherCa: CertificateAuthority;
const review = recordedAdmissionReviews()[0]?.raw ?? '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rcw-client-ca-'));
  clientCa = await createCertificateAuthority({ commonName: 'apiserver-client-ca', validityMs: 365 * DAY });
  otherCa = await createCertificateAuthority({ commonName: 'some-other-ca', validityMs: 365 * DAY });
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.cert);
  ({ server, ca: serverCa } = await startTestServer({ WEBHOOK_CLIENT_CA: join(dir, 'client-ca.crt'), RESOLVER_SOURCE: 'directory', AUTH: 'off', SHUTDOWN_DELAY: '0' }));
});

afterAll(async () => {
  await server?.shutdown('test end');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function admit(client?: { cert: string; key: string }) {
  return httpsCall(`https://127.0.0.1:${server.webhookPort}${REGISTRY_WEBHOOK_PATH}?timeout=10s`, {
    method: 'POST',
    ca: serverCa,
    headers: { 'content-type': 'application/json' },
    body: review,
    ...(client ? { cert: client.cert, key: client.key } : {}),
  });
}

describe('WEBHOOK_CLIENT_CA set', () => {
  it('refuses a client without a certificate: 401, no admission review answered', async () => {
    const answer = await admit();
    expect(answer.status).toBe(401);
    expect(answer.json()).toMatchObject({ code: 'CLIENT_CERTIFICATE_REQUIRED' });
  });

  it('refuses a certificate from another CA', async () => {
    const client = await createClientCertificate({ ca: otherCa, commonName: 'kube-apiserver', validityMs: DAY });
    expect((await admit(client)).status).toBe(401);
  });

  it('refuses an expired certificate from the right CA', async () => {
    const client = await createClientCertificate({ ca: clientCa, commonName: 'kube-apiserver', validityMs: DAY, now: new Date(Date.now() - 3 * DAY) });
    expect((await admit(client)).status).toBe(401);
  });

  it('serves a client with a certificate from the right CA', async () => {
    const client = await createClientCertificate({ ca: clientCa, commonName: 'kube-apiserver', validityMs: DAY });
    const answer = await admit(client);
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ kind: 'AdmissionReview', response: { allowed: true } });
  });

  it("accepts kube-apiserver's certificate as its AdmissionConfiguration kubeconfig names it (docs/authentication.md)", async () => {
    const client = await createClientCertificate({ ca: clientCa, commonName: 'kube-apiserver', validityMs: DAY });
    writeFileSync(join(dir, 'apiserver-client.crt'), client.cert);
    writeFileSync(join(dir, 'apiserver-client.key'), client.key);
    // The kubeconfig of docs/authentication.md step 3: the user is the webhook Service's DNS name.
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'users:',
      '  - name: registry-config-webhook.kyma-system.svc',
      '    user:',
      `      client-certificate: ${join(dir, 'apiserver-client.crt')}`,
      `      client-key: ${join(dir, 'apiserver-client.key')}`,
    ].join('\n');
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig);
    // kube-apiserver picks the user named <service>.<namespace>.svc for a webhook called through that Service.
    const user = kc.getUser('registry-config-webhook.kyma-system.svc');
    expect(user?.certFile && user.keyFile).toBeTruthy();
    const answer = await admit({ cert: readFileSync(user?.certFile ?? '', 'utf8'), key: readFileSync(user?.keyFile ?? '', 'utf8') });
    expect(answer.status).toBe(200);
  });

  it('refuses a certificate from the right CA that is not for client authentication (serverAuth only)', async () => {
    const serving = await createServingCertificate({ ca: clientCa, dnsNames: ['kube-apiserver'], validityMs: DAY });
    expect((await admit(serving)).status).toBe(401);
  });

  it('answers 401 before reading the body: a request whose body never comes is refused at once', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(`https://127.0.0.1:${server.webhookPort}${REGISTRY_WEBHOOK_PATH}`, {
        method: 'POST', ca: serverCa, headers: { 'content-type': 'application/json', 'content-length': '1000000' },
      }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
      setTimeout(() => reject(new Error('no answer within 2 s')), 2000).unref();
    });
    expect(status).toBe(401);
  });

  it('leaves the resolver API on the same port to bearer tokens (no certificate needed)', async () => {
    const answer = await httpsCall(`https://127.0.0.1:${server.webhookPort}/v1/namespaces/default/registry-config`, { method: 'GET', ca: serverCa });
    expect(answer.status).not.toBe(401);
    expect(answer.body).not.toContain('CLIENT_CERTIFICATE_REQUIRED');
  });
});

describe('serving certificate rotation', () => {
  it('keeps requiring client certificates from the CA after the serving certificate is swapped', async () => {
    const serving = await createCertificateAuthority({ commonName: 'serving-ca', validityMs: DAY });
    const first = await createServingCertificate({ ca: serving, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityMs: DAY });
    const second = await createServingCertificate({ ca: serving, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityMs: DAY });
    const webhook = await createWebhookServer({ certificate: first, log: captureLogs('warn').log, handler: mutateRegistrySecret, clientCa: clientCa.cert });
    try {
      await webhook.listen({ port: 0, host: '127.0.0.1' });
      webhook.useCertificate(second);
      const port = (webhook.server.address() as AddressInfo).port;
      const client = await createClientCertificate({ ca: clientCa, commonName: 'kube-apiserver', validityMs: DAY });
      const call = (pair?: { cert: string; key: string }) => httpsCall(`https://127.0.0.1:${port}${REGISTRY_WEBHOOK_PATH}`, {
        method: 'POST', ca: serving.cert, headers: { 'content-type': 'application/json' }, body: review, ...(pair ? { cert: pair.cert, key: pair.key } : {}),
      });
      expect((await call()).status).toBe(401);
      expect((await call(client)).status).toBe(200);
    } finally {
      await webhook.close();
    }
  });
});

describe('reading the CA bundle', () => {
  it('says which file is wrong: missing, not PEM, not a CA', async () => {
    expect(() => readClientCaBundle(join(dir, 'missing.crt'))).toThrow(/WEBHOOK_CLIENT_CA: cannot read ".*missing.crt": ENOENT/);
    writeFileSync(join(dir, 'garbage.crt'), 'hello');
    expect(() => readClientCaBundle(join(dir, 'garbage.crt'))).toThrow(/holds no PEM certificate/);
    const leaf = await createClientCertificate({ ca: clientCa, commonName: 'leaf', validityMs: DAY });
    writeFileSync(join(dir, 'leaf.crt'), leaf.cert);
    expect(() => readClientCaBundle(join(dir, 'leaf.crt'))).toThrow(/is not a CA certificate/);
  });
});
