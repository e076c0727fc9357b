import { X509Certificate, createPrivateKey } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createServingCertificate } from '../../../src/tls/generate.js';
import type { KeyPair } from '../../../src/tls/types.js';
import type { FakeApiServer } from '../../support/fake-apiserver.js';
import { ECDSA_WITH_SHA256, SERVER_AUTH, signatureAlgorithmOid, waitFor } from '../support.js';
import {
  DAY,
  NAMESPACE,
  type Replica,
  SECRET,
  SERVICE,
  counterValue,
  fingerprint,
  fingerprints,
  gaugeValue,
  publishedBundle,
  secretData,
  startFake,
  startReplica,
} from './support.js';

let fake: FakeApiServer | undefined;
const replicas: Replica[] = [];

afterEach(async () => {
  await Promise.all(replicas.splice(0).map((replica) => replica.running.stop()));
  await fake?.close();
  fake = undefined;
});

async function replica(options: Parameters<typeof startReplica>[1] = {}): Promise<Replica> {
  const started = await startReplica(fake as FakeApiServer, options);
  replicas.push(started);
  return started;
}

const SERVICE_NAMES = [SERVICE, `${SERVICE}.${NAMESPACE}`, `${SERVICE}.${NAMESPACE}.svc`, `${SERVICE}.${NAMESPACE}.svc.cluster.local`];

describe('self-managed certificates: the Secret', () => {
  it('creates a missing Secret with a CA and a serving certificate for the Service names, serves it and publishes the CA', async () => {
    fake = await startFake();
    const { running, metrics, logs } = await replica();
    const data = secretData(fake);
    expect(Object.keys(data).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    expect(fake.get<{ type: string }>('secrets', SECRET.namespace, SECRET.name)?.type).toBe('kubernetes.io/tls');

    const ca = new X509Certificate(data['ca.crt'] as string);
    const serving = new X509Certificate(data['tls.crt'] as string);
    expect(ca.ca).toBe(true);
    expect(serving.ca).toBe(false);
    expect(serving.checkIssued(ca) && serving.verify(ca.publicKey)).toBe(true);
    expect(serving.subjectAltName).toBe(SERVICE_NAMES.map((name) => `DNS:${name}`).join(', '));
    expect(serving.keyUsage).toEqual([SERVER_AUTH]);
    for (const pem of [data['ca.crt'], data['tls.crt']]) expect(signatureAlgorithmOid(pem as string)).toBe(ECDSA_WITH_SHA256);
    for (const key of [data['ca.key'], data['tls.key']]) {
      const parsed = createPrivateKey(key as string);
      expect(parsed.asymmetricKeyType).toBe('ec');
      expect(parsed.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    }
    // 30 days as configured (plus the hour notBefore is backdated).
    expect(new Date(serving.validTo).getTime() - new Date(serving.validFrom).getTime()).toBeCloseTo(30 * DAY + 3_600_000, -4);

    expect(running.provider.current()).toEqual({ cert: data['tls.crt'], key: data['tls.key'], ca: data['ca.crt'] });
    expect(running.provider.readiness()).toEqual({ ok: true });
    expect(fingerprints(publishedBundle(fake))).toEqual([ca.fingerprint256]);
    expect(await gaugeValue(metrics, 'certificateExpiry', { certificate: 'serving' })).toBe(new Date(serving.validTo).getTime() / 1000);
    expect(await gaugeValue(metrics, 'certificateExpiry', { certificate: 'ca' })).toBe(new Date(ca.validTo).getTime() / 1000);

    // The injection is one JSON patch with a resourceVersion test and both entries.
    const patches = fake.requests.filter((r) => r.verb === 'patch' && r.resource === 'mutatingwebhookconfigurations');
    expect(patches).toHaveLength(1);
    expect(patches[0]?.contentType).toBe('application/json-patch+json');
    expect((patches[0]?.body as { op: string; path: string }[]).map((op) => `${op.op} ${op.path}`)).toEqual([
      'test /metadata/resourceVersion',
      'add /webhooks/0/clientConfig/caBundle',
      'add /webhooks/1/clientConfig/caBundle',
    ]);
    // Key material never reaches the log.
    for (const value of Object.values(fake.get<{ data: Record<string, string> }>('secrets', SECRET.namespace, SECRET.name)?.data ?? {})) {
      expect(logs.text()).not.toContain(value.slice(0, 40));
    }
    expect(logs.text()).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  });

  it('two replicas racing on an empty Secret converge on one CA and one serving certificate', async () => {
    fake = await startFake();
    // Both read "not found" before either creates.
    fake.latency = (request) => (request.verb === 'get' && request.resource === 'secrets' ? 150 : 0);
    const [a, b] = await Promise.all([replica(), replica()]);
    fake.latency = 0;

    const creates = fake.requests.filter((r) => r.verb === 'create' && r.resource === 'secrets');
    expect(creates.map((r) => r.status).sort()).toEqual([201, 409]);
    const data = secretData(fake);
    for (const { running } of [a, b] as Replica[]) {
      expect(fingerprint(running.provider.current().cert)).toBe(fingerprint(data['tls.crt']));
      expect(fingerprint(running.provider.current().ca)).toBe(fingerprint(data['ca.crt']));
    }
    expect(fingerprints(publishedBundle(fake))).toEqual([fingerprint(data['ca.crt'])]);
    // The loser re-read and adopted what won at once (no error, no retry), and wrote nothing more.
    expect(fake.count({ verb: 'update', resource: 'secrets' })).toBe(0);
    const logs = [a, b].map((r) => (r as Replica).logs.text());
    expect(logs.filter((text) => text.includes('was written by someone else meanwhile; re-reading it'))).toHaveLength(1);
    for (const text of logs) expect(text).not.toMatch(/"level":(40|50)/);
  });

  it("serves another replica's renewal from the Secret within seconds, without a restart", async () => {
    fake = await startFake();
    const { running, metrics } = await replica();
    await fake.waitForWatches({ resource: 'secrets' });
    const seen: KeyPair[] = [];
    running.provider.subscribe((pair) => seen.push(pair));

    const data = secretData(fake);
    const renewed = await createServingCertificate({ ca: { cert: data['ca.crt'] as string, key: data['ca.key'] as string }, dnsNames: SERVICE_NAMES, validityMs: 30 * DAY });
    const secret = fake.get<{ data: Record<string, string> }>('secrets', SECRET.namespace, SECRET.name);
    fake.put({ ...secret, data: { ...secret?.data, 'tls.crt': Buffer.from(renewed.cert).toString('base64'), 'tls.key': Buffer.from(renewed.key).toString('base64') } });

    await waitFor(() => seen.length === 1, 'the renewed pair to be served', 3000);
    expect(seen[0]?.cert).toBe(renewed.cert);
    expect(running.provider.current().cert).toBe(renewed.cert);
    expect(await counterValue(metrics, { result: 'success' })).toBe(1);
    // It was acceptable as it is: no write in answer.
    expect(fake.count({ verb: 'update', resource: 'secrets' })).toBe(0);
  });

  it('keeps serving the last good pair when the Secret is garbled, and repairs the Secret', async () => {
    fake = await startFake();
    const { running, metrics } = await replica();
    await fake.waitForWatches({ resource: 'secrets' });
    const before = running.provider.current();
    const secret = fake.get<{ data: Record<string, string> }>('secrets', SECRET.namespace, SECRET.name);
    fake.put({ ...secret, data: { ...secret?.data, 'tls.key': Buffer.from('-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n').toString('base64') } });

    await waitFor(() => running.provider.current().cert !== before.cert, 'a repaired pair to be served', 3000);
    const data = secretData(fake);
    expect(running.provider.current().cert).toBe(data['tls.crt']);
    expect(data['ca.crt']).toBe(before.ca); // the CA was fine and stays
    expect(running.provider.readiness()).toEqual({ ok: true });
    expect(await counterValue(metrics, { result: 'failure' })).toBe(1);
  });

  it('re-creates a deleted Secret', async () => {
    fake = await startFake();
    const { running } = await replica();
    await fake.waitForWatches({ resource: 'secrets' });
    fake.remove('secrets', SECRET.namespace, SECRET.name);
    await waitFor(() => secretData(fake as FakeApiServer)['tls.crt'] !== undefined, 'the Secret to be re-created', 3000);
    await waitFor(() => running.provider.current().cert === secretData(fake as FakeApiServer)['tls.crt'], 'the new pair to be served', 3000);
    await waitFor(() => fingerprints(publishedBundle(fake as FakeApiServer))[0] === fingerprint(secretData(fake as FakeApiServer)['ca.crt']), 'the new CA to be published', 3000);
  });

  it('fails start-up with an error naming the Secret when it may not read it', async () => {
    fake = await startFake();
    fake.failNext({ verb: 'get', resource: 'secrets', status: 403, message: `secrets "${SECRET.name}" is forbidden: nope`, times: 5 });
    await expect(replica()).rejects.toThrow(`no serving certificate from Secret ${SECRET.namespace}/${SECRET.name}: cannot read Secret ${SECRET.namespace}/${SECRET.name}: HTTP 403`);
  });

  it('retries transient errors at start-up', async () => {
    fake = await startFake();
    fake.failNext({ verb: 'get', resource: 'secrets', status: 503, times: 2 });
    fake.failNext({ verb: 'create', resource: 'secrets', drop: true });
    const { running } = await replica();
    expect(running.provider.current().cert).toBe(secretData(fake)['tls.crt']);
  });
});
