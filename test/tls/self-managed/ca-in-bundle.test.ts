import { afterEach, describe, expect, it } from 'vitest';
import type { Metrics } from '../../../src/metrics/metrics.js';
import { createCertificateAuthority } from '../../../src/tls/generate.js';
import { bundleTrusts } from '../../../src/tls/self-managed/ca-bundle.js';
import type { FakeApiServer } from '../../support/fake-apiserver.js';
import { waitFor } from '../support.js';
import { type Replica, WEBHOOK_CONFIG, secretData, startFake, startReplica } from './support.js';

let fake: FakeApiServer | undefined;
let replica: Replica | undefined;

afterEach(async () => {
  await replica?.running.stop();
  replica = undefined;
  await fake?.close();
  fake = undefined;
});

/** The exposition line of the gauge, as Prometheus scrapes it (undefined when the series is absent). */
async function caInBundle(metrics: Metrics): Promise<number | undefined> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`registry_config_webhook_certificate_ca_in_bundle{configuration="${WEBHOOK_CONFIG}"}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

const toBase64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

describe('registry_config_webhook_certificate_ca_in_bundle (self-managed mode)', () => {
  it('is 1 once the caBundle is injected, 0 while a foreign CA replaced it and cannot be repaired, absent once the configuration is deleted', async () => {
    fake = await startFake();
    replica = await startReplica(fake);
    const metrics = replica.metrics;
    await waitFor(async () => (await caInBundle(metrics)) === 1, 'the gauge to read 1', 3000);

    // Someone re-applies the configuration with another CA, and RBAC no longer lets the server repair it.
    const foreign = await createCertificateAuthority({ commonName: 'someone-else', validityMs: 86_400_000 });
    fake.failNext({ verb: 'patch', resource: 'mutatingwebhookconfigurations', status: 403, reason: 'Forbidden', times: 1000 });
    const current = fake.get<{ webhooks: { clientConfig: Record<string, unknown> }[] }>('mutatingwebhookconfigurations', undefined, WEBHOOK_CONFIG);
    for (const hook of current?.webhooks ?? []) hook.clientConfig.caBundle = toBase64(foreign.cert);
    fake.put(current as object);
    await waitFor(async () => (await caInBundle(metrics)) === 0, 'the gauge to read 0', 3000);

    fake.remove('mutatingwebhookconfigurations', undefined, WEBHOOK_CONFIG);
    await waitFor(async () => (await caInBundle(metrics)) === undefined, 'the series to disappear', 3000);
  });
});

describe('bundleTrusts', () => {
  it('trusts a serving certificate issued by a CA of the bundle, not one issued by another CA', async () => {
    fake = await startFake();
    replica = await startReplica(fake);
    const data = secretData(fake);
    const serving = data['tls.crt'] as string;
    const ca = data['ca.crt'] as string;
    const other = await createCertificateAuthority({ commonName: 'rcw-ca', validityMs: 86_400_000 });
    expect(bundleTrusts(ca, serving)).toBe(true);
    expect(bundleTrusts(`${other.cert}${ca}`, serving)).toBe(true);
    // Same subject name, other key: the API server would refuse it.
    expect(bundleTrusts(other.cert, serving)).toBe(false);
    expect(bundleTrusts('', serving)).toBe(false);
    expect(bundleTrusts(ca, 'not a certificate')).toBe(false);
  });
});
