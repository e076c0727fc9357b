import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, type V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeApiServer } from '../../support/fake-apiserver.js';
import { APISERVER_HTTP_DIR } from '../../support/fixtures.js';
import { waitFor } from '../support.js';
import { type Replica, WEBHOOK_CONFIG, fingerprint, fingerprints, publishedBundle, publishedBundles, secretData, startFake, startReplica, webhookConfigurationManifest } from './support.js';

let fake: FakeApiServer | undefined;
const replicas: Replica[] = [];

afterEach(async () => {
  await Promise.all(replicas.splice(0).map((replica) => replica.running.stop()));
  await fake?.close();
  fake = undefined;
});

async function replica(): Promise<Replica> {
  const started = await startReplica(fake as FakeApiServer);
  replicas.push(started);
  return started;
}

const MWC_PATH = `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${WEBHOOK_CONFIG}`;

/** The CA of the Secret is what every entry carries. */
function expectInjected(server: FakeApiServer): void {
  const ca = secretData(server)['ca.crt'];
  expect(publishedBundles(server)).toHaveLength(2);
  expect(fingerprints(publishedBundle(server))).toEqual([fingerprint(ca)]);
}

const injected = (server: FakeApiServer) => () => {
  try {
    expectInjected(server);
    return true;
  } catch {
    return false;
  }
};

describe('self-managed certificates: the caBundle of the webhook configuration', () => {
  it('injects into every entry and leaves the rest of the configuration alone', async () => {
    fake = await startFake();
    const before = fake.get<{ webhooks: Record<string, unknown>[] }>('mutatingwebhookconfigurations', undefined, WEBHOOK_CONFIG);
    await replica();
    expectInjected(fake);
    const after = fake.get<{ webhooks: { clientConfig: Record<string, unknown> }[] }>('mutatingwebhookconfigurations', undefined, WEBHOOK_CONFIG);
    after?.webhooks.forEach((hook, i) => {
      const { caBundle: _bundle, ...clientConfig } = hook.clientConfig;
      expect({ ...hook, clientConfig }).toEqual(before?.webhooks[i]);
    });
  });

  it('re-injects within seconds after `kubectl patch --type=json` removed a caBundle (recorded request)', async () => {
    fake = await startFake();
    await replica();
    await fake.waitForWatches({ resource: 'mutatingwebhookconfigurations' });
    const recorded = JSON.parse(readFileSync(join(APISERVER_HTTP_DIR, 'mwc-kubectl-patch-remove-cabundle.json'), 'utf8')) as {
      exchanges: { request: { headers: Record<string, string>; body: unknown } }[];
    };
    const kubectl = recorded.exchanges[1]?.request;
    const response = await fetch(`${fake.url}${MWC_PATH}?fieldManager=kubectl-patch`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json-patch+json', 'User-Agent': kubectl?.headers['User-Agent'] ?? 'kubectl' },
      body: JSON.stringify(kubectl?.body),
    });
    expect(response.status).toBe(200);
    expect(publishedBundles(fake)[1]).toBeUndefined();

    await waitFor(injected(fake), 'the caBundle to be re-injected', 3000);
    const patches = fake.requests.filter((r) => r.verb === 'patch' && r.resource === 'mutatingwebhookconfigurations' && r.headers['user-agent']?.startsWith('registry-config-webhook'));
    // Only the wiped entry is written.
    expect((patches.at(-1)?.body as { path: string }[]).map((op) => op.path)).toEqual(['/metadata/resourceVersion', '/webhooks/1/clientConfig/caBundle']);
  });

  it('re-injects after the whole configuration was re-applied without caBundle (Helm, Argo CD)', async () => {
    fake = await startFake();
    await replica();
    await fake.waitForWatches({ resource: 'mutatingwebhookconfigurations' });
    const api = fake.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
    const current = await api.readMutatingWebhookConfiguration({ name: WEBHOOK_CONFIG });
    const manifest = webhookConfigurationManifest() as unknown as V1MutatingWebhookConfiguration;
    await api.replaceMutatingWebhookConfiguration({
      name: WEBHOOK_CONFIG,
      body: { ...manifest, metadata: { ...manifest.metadata, resourceVersion: current.metadata?.resourceVersion } },
    });
    expect(publishedBundles(fake)).toEqual([undefined, undefined]);
    await waitFor(injected(fake), 'the caBundle to be re-injected', 3000);
  });

  it('re-reads and patches again when the configuration changed between read and patch (422 from the resourceVersion test)', async () => {
    fake = await startFake();
    fake.failNext({ verb: 'patch', resource: 'mutatingwebhookconfigurations', status: 422, reason: 'Invalid', message: 'the server rejected our request due to an error in our request' });
    fake.failNext({ verb: 'patch', resource: 'mutatingwebhookconfigurations', status: 409, reason: 'Conflict' });
    await replica();
    expectInjected(fake);
    expect(fake.count({ verb: 'patch', resource: 'mutatingwebhookconfigurations' })).toBe(3);
    expect(fake.count({ verb: 'get', resource: 'mutatingwebhookconfigurations' })).toBeGreaterThanOrEqual(3);
  });

  it('starts without the configuration, says so, and injects once it is created', async () => {
    fake = await startFake({ seedWebhookConfiguration: false });
    const { logs } = await replica();
    expect(logs.text()).toContain(`MutatingWebhookConfiguration ${WEBHOOK_CONFIG} does not exist (yet)`);
    await fake.waitForWatches({ resource: 'mutatingwebhookconfigurations' });
    fake.put(webhookConfigurationManifest());
    await waitFor(injected(fake), 'the caBundle to be injected into the new configuration', 3000);
  });

  it('serves even when it may not patch the configuration yet, says why, and retries', async () => {
    fake = await startFake();
    fake.failNext({ verb: 'patch', resource: 'mutatingwebhookconfigurations', status: 403, reason: 'Forbidden', message: 'forbidden: no patch for you', times: 2 });
    const { running, logs } = await replica();
    expect(running.provider.current().cert).toBe(secretData(fake)['tls.crt']);
    expect(logs.text()).toContain(`cannot patch the caBundle of MutatingWebhookConfiguration ${WEBHOOK_CONFIG}: HTTP 403 Forbidden`);
    await waitFor(injected(fake), 'the caBundle to be injected after the retry', 3000);
  });

  it('does not write when every entry already matches', async () => {
    fake = await startFake();
    const { running } = await replica();
    const patches = fake.count({ verb: 'patch', resource: 'mutatingwebhookconfigurations' });
    await running.provider.checkNow();
    await running.provider.checkNow();
    expect(fake.count({ verb: 'patch', resource: 'mutatingwebhookconfigurations' })).toBe(patches);
    expect(fake.count({ verb: 'update', resource: 'secrets' })).toBe(0);
  });
});
