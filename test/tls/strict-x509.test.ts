/**
 * Every certificate we make passes strict X.509 verification (RFC 5280 key identifiers and
 * extensions): `openssl verify -x509_strict`, and Python's ssl with VERIFY_X509_STRICT doing a real
 * handshake against the running server, for dev certificates and for self-managed ones. A
 * certificate without key identifiers, as we made them before, is refused by the same checks.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate as NodeCertificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
} from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCertificates } from '../../src/cli/certs.js';
import type { RunningServer } from '../../src/server.js';
import { ensureDevCertificates } from '../../src/tls/dev-certificates.js';
import { type CertificateAuthority, createCertificateAuthority, createServingCertificate } from '../../src/tls/generate.js';
import { applyRotationPlan } from '../../src/tls/self-managed/apply-rotation.js';
import { caBundleOf } from '../../src/tls/self-managed/ca-bundle.js';
import { planRotation, type RotationSettings } from '../../src/tls/self-managed/rotation-plan.js';
import type { CertificateSecretContents } from '../../src/tls/self-managed/secret-contents.js';
import { type FakeApiServer } from '../support/fake-apiserver.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestServer } from '../support/server.js';
import { devCertificates } from '../support/webhook.js';
import { NAMESPACE, publishedBundle, SECRET, SERVICE, SERVING_NAME, secretData, startFake, WEBHOOK_CONFIG } from './self-managed/support.js';
import { caWithoutKeyIdentifiers, HAS_OPENSSL, HAS_PYTHON_SSL, leafWithoutKeyIdentifiers, opensslVerifyStrict, pythonStrictHandshake } from './strict-x509.js';
import { DAY_MS } from './support.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

interface Extensions {
  basicConstraints: { ca: boolean; critical: boolean } | undefined;
  keyUsage: { usages: number; critical: boolean } | undefined;
  extendedKeyUsage: string[] | undefined;
  subjectKeyId: string | undefined;
  authorityKeyId: string | undefined;
}

function extensionsOf(pem: string): Extensions {
  const cert = new X509Certificate(pem);
  const basic = cert.getExtension(BasicConstraintsExtension);
  const usage = cert.getExtension(KeyUsagesExtension);
  return {
    basicConstraints: basic ? { ca: basic.ca, critical: basic.critical } : undefined,
    keyUsage: usage ? { usages: usage.usages, critical: usage.critical } : undefined,
    extendedKeyUsage: cert.getExtension(ExtendedKeyUsageExtension)?.usages.map(String),
    subjectKeyId: cert.getExtension(SubjectKeyIdentifierExtension)?.keyId,
    authorityKeyId: cert.getExtension(AuthorityKeyIdentifierExtension)?.keyId,
  };
}

function expectCa(pem: string): string {
  const ext = extensionsOf(pem);
  expect(ext.basicConstraints).toEqual({ ca: true, critical: true });
  expect(ext.keyUsage).toEqual({ usages: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, critical: true });
  expect(ext.subjectKeyId).toMatch(/^[0-9a-f]{40}$/);
  return ext.subjectKeyId as string;
}

function expectLeaf(pem: string, caPem: string, keyUsage = KeyUsageFlags.digitalSignature): void {
  const ext = extensionsOf(pem);
  expect(ext.basicConstraints).toEqual({ ca: false, critical: true });
  expect(ext.keyUsage).toEqual({ usages: keyUsage, critical: true });
  expect(ext.extendedKeyUsage).toEqual([SERVER_AUTH]);
  expect(ext.subjectKeyId).toMatch(/^[0-9a-f]{40}$/);
  expect(ext.authorityKeyId).toBe(extensionsOf(caPem).subjectKeyId);
}

async function expectStrictlyValid(caPem: string, leafPem: string): Promise<void> {
  if (!HAS_OPENSSL) return;
  expect(await opensslVerifyStrict(caPem, caPem)).toMatchObject({ ok: true });
  const leaf = await opensslVerifyStrict(caPem, leafPem);
  expect(leaf.output).toMatch(/: OK$/);
  expect(leaf).toMatchObject({ ok: true });
}

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'rcw-strict-test-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the extensions of every certificate we make', () => {
  it('a CA: basicConstraints CA and keyUsage keyCertSign+cRLSign (critical), a Subject Key Identifier', async () => {
    const ca = await createCertificateAuthority({ commonName: 'webhook CA', validityMs: DAY_MS });
    const first = expectCa(ca.cert);
    // The identifier is the key's: another CA has another one.
    expect(expectCa((await createCertificateAuthority({ commonName: 'webhook CA', validityMs: DAY_MS })).cert)).not.toBe(first);
    await expectStrictlyValid(ca.cert, ca.cert);
  });

  it('a serving certificate: not a CA, digitalSignature, serverAuth, SKI, and AKI = the CA’s SKI', async () => {
    const ca = await createCertificateAuthority({ commonName: 'webhook CA', validityMs: DAY_MS });
    const pair = await createServingCertificate({ ca, dnsNames: ['webhook.kyma-system.svc'], ipAddresses: ['127.0.0.1'], validityMs: DAY_MS });
    expectLeaf(pair.cert, ca.cert);
    expect(extensionsOf(pair.cert).subjectKeyId).not.toBe(extensionsOf(ca.cert).subjectKeyId);
    await expectStrictlyValid(ca.cert, pair.cert);
  });

  it.skipIf(!HAS_OPENSSL)('signed by an RSA CA of someone else’s (made by openssl): an RSA key with keyEncipherment too', async () => {
    const dir = tempDir();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=someone else RSA CA', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-days', '2', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt')], { stdio: 'ignore' });
    const ca: CertificateAuthority = { cert: readFileSync(join(dir, 'ca.crt'), 'utf8'), key: readFileSync(join(dir, 'ca.key'), 'utf8') };
    const pair = await createServingCertificate({ ca, dnsNames: ['localhost'], validityMs: DAY_MS });
    expectLeaf(pair.cert, ca.cert, KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment);
    expect(pair.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    await expectStrictlyValid(ca.cert, pair.cert);
  });

  it('dev certificates (CERT_DIR without a pair)', async () => {
    const dir = join(tempDir(), 'certs');
    await ensureDevCertificates(dir, { dnsNames: ['webhook.kyma-system.svc'], log: captureLogs().log });
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const cert = readFileSync(join(dir, 'tls.crt'), 'utf8');
    expectCa(ca);
    expectLeaf(cert, ca);
    await expectStrictlyValid(ca, cert);
  });

  it('`registry-config-webhook certs` / `npm run certs`', async () => {
    const out = join(tempDir(), 'out');
    const written = await writeCertificates({ out, dnsNames: ['webhook.local'], ipAddresses: ['127.0.0.1'], days: 30, force: false });
    const ca = readFileSync(written.files.caCert, 'utf8');
    const cert = readFileSync(written.files.cert, 'utf8');
    expectCa(ca);
    expectLeaf(cert, ca);
    await expectStrictlyValid(ca, cert);
  });

  it.skipIf(!HAS_OPENSSL)('openssl refuses a serving certificate without key identifiers, as we made them before', async () => {
    const ca = await createCertificateAuthority({ commonName: 'webhook CA', validityMs: DAY_MS });
    const old = await leafWithoutKeyIdentifiers(ca, ['localhost']);
    expect(extensionsOf(old.cert).authorityKeyId).toBeUndefined();
    const result = await opensslVerifyStrict(ca.cert, old.cert);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('Missing Authority Key Identifier');
  });
});

describe.skipIf(!HAS_PYTHON_SSL)("Python's ssl with VERIFY_X509_STRICT against the running server", () => {
  it('completes a handshake with the dev certificates, and refuses a pair without key identifiers in the same place', async () => {
    const dev = await devCertificates();
    const { server } = await startTestServer({ SHUTDOWN_DELAY: '0' });
    try {
      const handshake = await pythonStrictHandshake(server.webhookPort, dev.ca, 'localhost');
      expect(handshake).toEqual({ ok: true, strict: true, subject: 'localhost' });
    } finally {
      await server.shutdown('test end');
    }

    // The same CA, a serving pair without key identifiers: the same check refuses it.
    const dir = tempDir();
    const ca: CertificateAuthority = { cert: dev.ca, key: readFileSync(join(dev.dir, 'ca.key'), 'utf8') };
    const old = await leafWithoutKeyIdentifiers(ca, ['localhost'], ['127.0.0.1']);
    writeFileSync(join(dir, 'tls.key'), old.key);
    writeFileSync(join(dir, 'tls.crt'), old.cert);
    const crafted = await startTestServer({ SHUTDOWN_DELAY: '0', CERT_DIR: dir });
    try {
      const refused = await pythonStrictHandshake(crafted.server.webhookPort, dev.ca, 'localhost');
      expect(refused).toEqual({ ok: false, error: 'Missing Authority Key Identifier' });
    } finally {
      await crafted.server.shutdown('test end');
    }
  });

  describe('self-managed certificates (CERT_SECRET), trusting the published caBundle', () => {
    let fake: FakeApiServer;
    let server: RunningServer | undefined;
    const previousKubeconfig = process.env.KUBECONFIG;

    beforeAll(async () => {
      fake = await startFake();
      const kubeconfig = join(tempDir(), 'kubeconfig');
      writeFileSync(kubeconfig, fake.kubeConfig().exportConfig());
      // detectKubernetes reads KUBECONFIG from the process environment, as in a real start.
      process.env.KUBECONFIG = kubeconfig;
      ({ server } = await startTestServer({
        CERT_SECRET: `${SECRET.namespace}/${SECRET.name}`,
        WEBHOOK_CONFIG,
        SERVICE_NAME: SERVICE,
        POD_NAMESPACE: NAMESPACE,
        PROPAGATION: 'off',
        AUTH: 'off',
        SHUTDOWN_DELAY: '0',
      }));
    });

    afterAll(async () => {
      await server?.shutdown('test end');
      await fake?.close();
      if (previousKubeconfig === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previousKubeconfig;
    });

    it('holds a strict CA and serving certificate in the Secret and serves them', async () => {
      const data = secretData(fake);
      expectCa(data['ca.crt'] as string);
      expectLeaf(data['tls.crt'] as string, data['ca.crt'] as string);
      await expectStrictlyValid(data['ca.crt'] as string, data['tls.crt'] as string);

      const handshake = await pythonStrictHandshake((server as RunningServer).webhookPort, publishedBundle(fake), SERVING_NAME);
      expect(handshake).toEqual({ ok: true, strict: true, subject: SERVICE });
    });
  });
});

describe('certificates made by older versions (no key identifiers) are replaced', () => {
  it('dev certificates: an old CA in CERT_DIR is not reused for a new pair', async () => {
    const dir = join(tempDir(), 'certs');
    const old = await caWithoutKeyIdentifiers('registry-config-webhook development CA', { validityMs: 365 * DAY_MS });
    await ensureDevCertificates(dir, { dnsNames: [], log: captureLogs().log }); // creates the directory layout
    for (const file of ['tls.crt', 'tls.key']) rmSync(join(dir, file));
    writeFileSync(join(dir, 'ca.crt'), old.cert);
    writeFileSync(join(dir, 'ca.key'), old.key);
    expect(await ensureDevCertificates(dir, { dnsNames: [], log: captureLogs().log })).toBe(true);
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    expect(ca).not.toBe(old.cert);
    expectCa(ca);
    await expectStrictlyValid(ca, readFileSync(join(dir, 'tls.crt'), 'utf8'));
  });

  it('self-managed: a new serving certificate at once, a new CA through the usual overlap', async () => {
    const HOUR = 60 * 60 * 1000;
    const settings: RotationSettings = { caValidityMs: 3650 * DAY_MS, certValidityMs: 90 * DAY_MS, overlapMs: HOUR };
    const dnsNames = [SERVICE, SERVING_NAME];
    const t0 = new Date();
    const oldCa = await caWithoutKeyIdentifiers('rcw CA 2020', { now: t0, validityMs: 3000 * DAY_MS });
    const oldLeaf = await leafWithoutKeyIdentifiers(oldCa, dnsNames, [], { now: t0, validityMs: 80 * DAY_MS });
    let contents: CertificateSecretContents = { caCert: oldCa.cert, caKey: oldCa.key, tlsCert: oldLeaf.cert, tlsKey: oldLeaf.key };
    const check = async (now: Date) => {
      const plan = planRotation({ contents, now, settings, dnsNames, publishedBundle: caBundleOf(contents) });
      contents = await applyRotationPlan(contents, plan, { now, settings, dnsNames, name: 'rcw' });
      return plan;
    };

    const first = await check(t0);
    expect(first).toMatchObject({ ca: 'keep', nextCa: 'create', servingCertificate: 'issue' });
    expect(first.changes.join('\n')).toMatch(/the CA has no Subject Key Identifier/);
    expect(first.changes.join('\n')).toMatch(/the serving certificate has no key identifiers/);
    expect(contents.caCert).toBe(oldCa.cert);
    // Signed by the old CA until the switch, now with both identifiers (the old CA's from its key).
    expect(new NodeCertificate(contents.tlsCert as string).verify(new NodeCertificate(oldCa.cert).publicKey)).toBe(true);
    expect(extensionsOf(contents.tlsCert as string)).toMatchObject({ subjectKeyId: expect.stringMatching(/^[0-9a-f]{40}$/), authorityKeyId: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expectCa(contents.nextCaCert as string);

    const switched = await check(new Date(t0.getTime() + HOUR));
    expect(switched).toMatchObject({ ca: 'from-next', previousCa: 'from-current', servingCertificate: 'issue' });
    const dropped = await check(new Date(t0.getTime() + 2 * HOUR));
    expect(dropped.changes.join('\n')).toMatch(/dropping the previous CA/);
    expect(contents.previousCaCert).toBeUndefined();
    expectLeaf(contents.tlsCert as string, contents.caCert as string);
    await expectStrictlyValid(contents.caCert as string, contents.tlsCert as string);
    expect((await check(new Date(t0.getTime() + 3 * HOUR))).changes).toEqual([]);
  });
});
