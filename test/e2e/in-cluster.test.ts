/**
 * The whole server as the chart runs it in a cluster, against the fake API server: the chart's
 * rendered environment, its ServiceAccount's token, and its RBAC, which the fake enforces as
 * kube-apiserver does (a request the chart does not grant is a 403, and fails this test). Self-managed
 * certificates with caBundle injection, the Kubernetes resolver with TokenReview / SubjectAccessReview
 * auth, propagation with leader election, credential checks with their status ConfigMap and Events.
 * Unit and component tests cover each part; this one proves the wiring and the permissions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import type { Logger } from '../../src/logger.js';
import { REGISTRY_WEBHOOK_PATH } from '../../src/http/webhook-server.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { FULLNAME, type K8sObject, NAMESPACE as SYSTEM, only, renderChart } from '../chart/helm.js';
import { seedSecretReader, stored } from '../resolver/kubernetes/support.js';
import { namespaceSecret } from '../resolver/secrets.js';
import { eventually } from '../support/eventually.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { useFakeKubeconfig } from '../support/fake-kubeconfig.js';
import { readAdmissionFixture } from '../support/fixtures.js';
import { httpsCall, postReview } from '../support/https-client.js';
import { captureLogs } from '../support/log-capture.js';

const WEBHOOK_CONFIG = FULLNAME;
const SERVICE_HOST = `${FULLNAME}.${SYSTEM}.svc`;
const SERVICE_ACCOUNT = `system:serviceaccount:${SYSTEM}:${FULLNAME}`;
const POD = 'pod-a';
const b64 = (s: string) => Buffer.from(s).toString('base64');
// What the chart installs that the server meets in the API: its ServiceAccount and RBAC, and the webhook configuration it injects into.
const SEEDED_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'MutatingWebhookConfiguration']);

interface WebhookConfiguration {
  webhooks: { clientConfig: { caBundle?: string } }[];
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

/** The container's environment as the kubelet would give it to pod `POD`. */
function containerEnv(deployment: K8sObject): Record<string, string> {
  const fields: Record<string, string> = { 'metadata.namespace': SYSTEM, 'metadata.name': POD };
  const env: Record<string, string> = {};
  for (const variable of deployment.spec.template.spec.containers[0].env as EnvVar[]) {
    const value = variable.value ?? fields[variable.valueFrom?.fieldRef?.fieldPath ?? ''];
    if (value === undefined) throw new Error(`env ${variable.name}: no value this test can give`);
    env[variable.name] = value;
  }
  return env;
}

interface AsChart {
  fake: FakeApiServer;
  server: RunningServer;
  close(): Promise<void>;
}

/**
 * The chart rendered with `values`, its objects the server meets in an authorizing fake API server, and the whole
 * server started in this process with the rendered container environment and the chart's
 * ServiceAccount token.
 */
async function startAsChart(values: Record<string, unknown>, log: Logger): Promise<AsChart> {
  const chart = await renderChart({ values });
  const fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a', 'team-b'], authorizeRequests: true });
  fake.seed(chart.filter((o) => SEEDED_KINDS.has(o.kind)));
  const kubeconfig = useFakeKubeconfig(fake, { token: fake.issueServiceAccountToken(SYSTEM, FULLNAME) });
  const certDir = mkdtempSync(join(tmpdir(), 'rcw-e2e-certs-'));
  const config = parseConfig(
    [],
    {
      ...containerEnv(only(chart, 'Deployment')),
      // What differs from a pod: loopback ephemeral ports, a kubeconfig instead of the mounted
      // token, a temporary CERT_DIR, and short leases and no shutdown delay for a quick test.
      PORT: '0',
      PROBE_PORT: '0',
      HOST: '127.0.0.1',
      KUBECONFIG: kubeconfig.path,
      CERT_DIR: certDir,
      LEASE_DURATION: '3s',
      LEASE_RENEW_DEADLINE: '2s',
      LEASE_RETRY_PERIOD: '200ms',
      SHUTDOWN_DELAY: '0',
    },
    { hostname: POD, serviceAccountNamespace: undefined },
  );
  const server = await startServer(config, log, { processMetrics: false });
  return {
    fake,
    server,
    async close() {
      await server.shutdown('test end');
      await fake.close();
      kubeconfig.restore();
      rmSync(certDir, { recursive: true, force: true });
    },
  };
}

/** Requests the server made as anyone but its ServiceAccount (or the test's admin), and those its RBAC denied. */
function requestsBeyondTheChart(fake: FakeApiServer): { own: number; strangers: unknown[]; forbidden: string[] } {
  const own = fake.requests.filter((r) => r.user === SERVICE_ACCOUNT);
  return {
    own: own.length,
    strangers: fake.requests.filter((r) => r.user !== SERVICE_ACCOUNT && r.user !== 'fake-admin'),
    forbidden: own.filter((r) => r.status === 403).map((r) => `${r.method} ${r.path}?${new URLSearchParams(r.query).toString()}`),
  };
}

/** The caBundle the server injected into the chart's MutatingWebhookConfiguration, as PEM. */
function injectedBundle(fake: FakeApiServer): string {
  const bundle = fake.get<WebhookConfiguration>('mutatingwebhookconfigurations', undefined, WEBHOOK_CONFIG)?.webhooks[0]?.clientConfig.caBundle;
  if (!bundle) throw new Error('no caBundle injected yet');
  return Buffer.from(bundle, 'base64').toString('utf8');
}

describe("in a cluster, with the chart's RBAC and environment, every feature on (fake API server)", () => {
  let fake: FakeApiServer;
  let server: RunningServer;
  let running: AsChart | undefined;
  const logs = captureLogs('info');

  beforeAll(async () => {
    running = await startAsChart({ config: { credentialCheck: { mode: 'on' } } }, logs.log);
    ({ fake, server } = running);
  }, 60_000);

  afterAll(async () => {
    await running?.close();
  });

  it('is ready, and the API server can reach it trusting only the caBundle it injected', async () => {
    await eventually(async () => expect((await fetch(`http://127.0.0.1:${server.probePort}/readyz`)).status).toBe(200));
    const ca = await eventually(() => injectedBundle(fake));
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

    const ca = injectedBundle(fake);
    const url = `https://127.0.0.1:${server.webhookPort}/v1/namespaces/team-a/registry-config`;
    const anonymous = await httpsCall(url, { method: 'GET', ca, headers: { host: SERVICE_HOST } });
    expect(anonymous.status).toBe(401);

    // A controller's ServiceAccount token (signed by the API server: verified offline, then reviewed),
    // allowed by RBAC to get Secrets in team-a only.
    seedSecretReader(fake);
    const token = fake.issueServiceAccountToken('team-a', 'reader');
    const allowed = await eventually(async () => {
      const res = await httpsCall(url, { method: 'GET', ca, headers: { host: SERVICE_HOST, authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return res.json<{ source: string; secret: { namespace: string } }>();
    });
    expect(allowed).toMatchObject({ source: 'cluster', secret: { namespace: SYSTEM } });
    const elsewhere = await httpsCall(`https://127.0.0.1:${server.webhookPort}/v1/namespaces/team-b/registry-config`, { method: 'GET', ca, headers: { host: SERVICE_HOST, authorization: `Bearer ${token}` } });
    expect(elsewhere.status).toBe(403);
  });

  it('checks the credentials as the leader: publishes the outcome in its ConfigMap and an Event on the Secret', async () => {
    // registry.example.com does not resolve here (and nothing is reachable): the check says unreachable.
    const status = await eventually(() => {
      const configMap = fake.get<{ data?: Record<string, string> }>('configmaps', SYSTEM, `${FULLNAME}-propagation-credential-status`);
      expect(configMap?.data).toBeDefined();
      return JSON.stringify(configMap?.data);
    }, 20_000);
    expect(status).toContain('unreachable');
    expect(status).not.toContain('s3cr3t-pass');
    await eventually(() => {
      const events = fake.list<{ reason: string; involvedObject?: { name: string } }>('events', SYSTEM);
      expect(events.map((e) => e.reason)).toContain('RegistryUnreachable');
    }, 10_000);
  }, 40_000);

  it('deletes the copies when the cluster-wide Secret is deleted, then lets the Secret go', async () => {
    const deleted = await fetch(`${fake.url}/api/v1/namespaces/${SYSTEM}/secrets/serverless-registry-config`, { method: 'DELETE', headers: { authorization: 'Bearer fake-admin-token' } });
    expect(deleted.status).toBe(200);
    await eventually(() => {
      for (const namespace of [SYSTEM, 'default', 'team-a', 'team-b']) expect(fake.get('secrets', namespace, 'serverless-registry-config'), namespace).toBeUndefined();
    }, 10_000);
  });

  it('holds the propagation lease and releases it on shutdown', async () => {
    const lease = () => fake.get<{ spec: { holderIdentity?: string | null } }>('leases', SYSTEM, `${FULLNAME}-propagation`);
    await eventually(() => expect(lease()?.spec.holderIdentity).toBe(POD));
    await server.shutdown('SIGTERM');
    expect(lease()?.spec.holderIdentity ?? null).not.toBe(POD);
  });

  it("made every request as its ServiceAccount, and none that the chart's RBAC does not grant", () => {
    const { own, strangers, forbidden } = requestsBeyondTheChart(fake);
    expect(own).toBeGreaterThan(20);
    expect(strangers).toEqual([]);
    expect(forbidden).toEqual([]);
  });
});

describe("in a cluster, with the chart's RBAC and environment, propagation off (fake API server)", () => {
  let running: AsChart | undefined;
  const logs = captureLogs('info');

  afterAll(async () => {
    await running?.close();
  });

  it("serves, resolves for a permitted controller and checks credentials in this replica, within the chart's smaller RBAC", async () => {
    running = await startAsChart({ config: { propagation: { mode: 'off' }, credentialCheck: { mode: 'on' } } }, logs.log);
    const { fake, server } = running;
    await eventually(async () => expect((await fetch(`http://127.0.0.1:${server.probePort}/readyz`)).status).toBe(200));
    const ca = await eventually(() => injectedBundle(fake));
    fake.put(stored(namespaceSecret('team-a', { plain: { username: 'robot', password: 't34m-pass', serverAddress: 'team.example.com', registryAddress: 'team.example.com/functions' } })));
    seedSecretReader(fake);
    const token = fake.issueServiceAccountToken('team-a', 'reader');
    const url = `https://127.0.0.1:${server.webhookPort}/v1/namespaces/team-a/registry-config`;
    const answer = await eventually(async () => {
      const res = await httpsCall(url, { method: 'GET', ca, headers: { host: SERVICE_HOST, authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const body = res.json<{ source: string; credentials: { state: string } }>();
      expect(body.credentials.state).toBe('unreachable');
      return body;
    }, 20_000);
    expect(answer.source).toBe('namespace');
    await eventually(() => expect(fake.list<{ reason: string }>('events', 'team-a').map((e) => e.reason)).toContain('RegistryUnreachable'), 10_000);
    // Nothing of propagation: no Lease, no copies, no ConfigMap.
    expect(fake.list('leases', SYSTEM)).toEqual([]);
    expect(fake.list('configmaps', SYSTEM)).toEqual([]);
    const { own, strangers, forbidden } = requestsBeyondTheChart(fake);
    expect(own).toBeGreaterThan(5);
    expect(strangers).toEqual([]);
    expect(forbidden).toEqual([]);
  }, 60_000);
});
