/**
 * The whole server as `node dist/main.js` runs it in a cluster, against the fake API server:
 * self-managed certificates with caBundle injection, the Kubernetes resolver with TokenReview /
 * SubjectAccessReview auth, and propagation with leader election. Unit and component tests cover
 * each part; this one proves the wiring.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { REGISTRY_WEBHOOK_PATH } from '../../src/http/webhook-server.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { eventually } from '../support/eventually.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { readAdmissionFixture } from '../support/fixtures.js';
import { httpsCall, postReview } from '../support/https-client.js';
import { captureLogs } from '../support/log-capture.js';

const SYSTEM = 'kyma-system';
const WEBHOOK_CONFIG = 'registry-config-webhook';
const SERVICE_HOST = `registry-config-webhook.${SYSTEM}.svc`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

interface WebhookConfiguration {
  webhooks: { clientConfig: { caBundle?: string } }[];
}

describe('in a cluster (fake API server)', () => {
  let fake: FakeApiServer;
  let server: RunningServer;
  let dir: string | undefined;
  const logs = captureLogs('info');
  const previousKubeconfig = process.env.KUBECONFIG;

  beforeAll(async () => {
    fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a', 'team-b'] });
    fake.put({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: WEBHOOK_CONFIG },
      webhooks: [
        {
          name: 'mutating.secret.webhook.serverless.kyma-project.io',
          clientConfig: { service: { namespace: SYSTEM, name: 'registry-config-webhook', path: REGISTRY_WEBHOOK_PATH, port: 443 } },
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['secrets'] }],
          objectSelector: { matchLabels: { 'serverless.kyma-project.io/remote-registry': 'config' } },
          sideEffects: 'None',
          admissionReviewVersions: ['v1', 'v1beta1'],
          timeoutSeconds: 5,
        },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'rcw-e2e-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, fake.kubeConfig().exportConfig());
    process.env.KUBECONFIG = kubeconfig;
    const config = parseConfig(
      [],
      {
        PORT: '0',
        PROBE_PORT: '0',
        HOST: '127.0.0.1',
        KUBECONFIG: kubeconfig,
        CERT_SECRET: `${SYSTEM}/registry-config-webhook-tls`,
        WEBHOOK_CONFIG,
        POD_NAMESPACE: SYSTEM,
        AUTH: 'on',
        PROPAGATION: 'on',
        LEASE_DURATION: '3s',
        LEASE_RENEW_DEADLINE: '2s',
        LEASE_RETRY_PERIOD: '200ms',
        SHUTDOWN_DELAY: '0',
      },
      { hostname: 'pod-a', serviceAccountNamespace: undefined },
    );
    server = await startServer(config, logs.log, { processMetrics: false });
  });

  afterAll(async () => {
    await server?.shutdown('test end');
    await fake?.close();
    if (previousKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = previousKubeconfig;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const injectedBundle = () => {
    const bundle = fake.get<WebhookConfiguration>('mutatingwebhookconfigurations', undefined, WEBHOOK_CONFIG)?.webhooks[0]?.clientConfig.caBundle;
    if (!bundle) throw new Error('no caBundle injected yet');
    return Buffer.from(bundle, 'base64').toString('utf8');
  };

  it('is ready, and the API server can reach it trusting only the caBundle it injected', async () => {
    await eventually(async () => expect((await fetch(`http://127.0.0.1:${server.probePort}/readyz`)).status).toBe(200));
    const ca = await eventually(injectedBundle);
    const review = JSON.stringify(readAdmissionFixture('create-dockerconfigjson-data.v1.json'));
    const answer = await postReview(`https://127.0.0.1:${server.webhookPort}${REGISTRY_WEBHOOK_PATH}?timeout=5s`, review, ca, undefined, { host: SERVICE_HOST });
    // The serving certificate is for the Service's DNS name, as the API server calls it.
    expect(answer.status).toBe(200);
    expect(answer.json<{ response: { allowed: boolean; patch?: string } }>().response.patch).toBeDefined();
  });

  it('propagates the cluster-wide Secret to every namespace and the resolver answers with it', async () => {
    fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        namespace: SYSTEM,
        name: 'serverless-registry-config',
        labels: { 'serverless.kyma-project.io/remote-registry': 'config', 'serverless.kyma-project.io/config': 'credentials' },
      },
      type: 'kubernetes.io/dockerconfigjson',
      data: {
        username: b64('admin'),
        password: b64('s3cr3t-pass'),
        serverAddress: b64('registry.example.com:5000'),
        registryAddress: b64('registry.example.com:5000/kyma'),
        '.dockerconfigjson': b64('{"auths":{"registry.example.com:5000":{"username":"admin","password":"s3cr3t-pass","auth":"YWRtaW46czNjcjN0LXBhc3M="}}}'),
      },
    });
    await eventually(() => {
      for (const namespace of ['default', 'team-a', 'team-b']) {
        const copy = fake.get<{ metadata: { labels: Record<string, string> } }>('secrets', namespace, 'serverless-registry-config');
        expect(copy?.metadata.labels['app.kubernetes.io/managed-by'], namespace).toBe('registry-config-webhook');
      }
    }, 10_000);

    const ca = injectedBundle();
    const url = `https://127.0.0.1:${server.webhookPort}/v1/namespaces/team-a/registry-config`;
    const anonymous = await httpsCall(url, { method: 'GET', ca, headers: { host: SERVICE_HOST } });
    expect(anonymous.status).toBe(401);

    // A ServiceAccount token as a controller's pod has it (signed by the API server: verified offline, then reviewed).
    fake.put({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder', namespace: 'team-a' } });
    const token = fake.issueServiceAccountToken('team-a', 'builder');
    fake.authorize = (spec) => spec.user === 'system:serviceaccount:team-a:builder' && spec.resourceAttributes?.namespace === 'team-a';
    const allowed = await eventually(async () => {
      const res = await httpsCall(url, { method: 'GET', ca, headers: { host: SERVICE_HOST, authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return res.json<{ source: string; secret: { namespace: string } }>();
    });
    expect(allowed).toMatchObject({ source: 'cluster', secret: { namespace: SYSTEM } });
    const elsewhere = await httpsCall(`https://127.0.0.1:${server.webhookPort}/v1/namespaces/team-b/registry-config`, { method: 'GET', ca, headers: { host: SERVICE_HOST, authorization: `Bearer ${token}` } });
    expect(elsewhere.status).toBe(403);
  });

  it('holds the propagation lease and releases it on shutdown', async () => {
    const lease = () => fake.get<{ spec: { holderIdentity?: string | null } }>('leases', SYSTEM, 'registry-config-webhook-propagation');
    await eventually(() => expect(lease()?.spec.holderIdentity).toBe('pod-a'));
    await server.shutdown('SIGTERM');
    expect(lease()?.spec.holderIdentity ?? null).not.toBe('pod-a');
  });
});
