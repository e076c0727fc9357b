/**
 * The done criterion, end to end: the whole server (Kubernetes resolver, propagation with
 * leader election, credential checks) against the fake API server and the real docker-registry.
 * A wrong password written into a namespace's registry Secret gives a Warning Event on that Secret
 * and `credentials.state: rejected` in the resolver's answer within seconds; fixing it gives a
 * Normal Event and `ok`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryConfig } from '../../src/resolver/api.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { eventually } from '../support/eventually.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { httpsCall } from '../support/https-client.js';
import { captureLogs } from '../support/log-capture.js';
import { createTestPki, HAVE_DOCKER_REGISTRY, startDockerRegistry, type RunningRegistry, type TestPki } from '../support/registry/docker-registry.js';
import { openWatch } from '../resolver/watch-stream.js';
import { devCertificates } from '../support/webhook.js';
import { replicaConfig } from './replica-config.js';
import { namespaceSecret } from '../resolver/secrets.js';
import { stored } from '../resolver/kubernetes/support.js';
import { type FakeKubeconfig, useFakeKubeconfig } from '../support/fake-kubeconfig.js';

const SYSTEM = 'kyma-system';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const GOOD = 'good-Pa55word-e2e';
const WRONG = 'wrong-Pa55word-e2e';

interface CoreEvent {
  type: string;
  reason: string;
  message: string;
  involvedObject: { kind: string; namespace: string; name: string; uid?: string };
}

describe.skipIf(!HAVE_DOCKER_REGISTRY)('credential check end to end (fake API server, real docker-registry)', () => {
  let fake: FakeApiServer;
  let server: RunningServer;
  let registry: RunningRegistry;
  let pki: TestPki;
  let webhookCa: string;
  const logs = captureLogs('info');
  let kubeconfig: FakeKubeconfig | undefined;

  beforeAll(async () => {
    pki = await createTestPki();
    registry = await startDockerRegistry(pki, { kind: 'htpasswd', users: { robot: GOOD } });
    fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a', 'team-b'] });
    kubeconfig = useFakeKubeconfig(fake);
    const pair = await devCertificates();
    webhookCa = pair.ca;
    const config = replicaConfig({ kubeconfig: kubeconfig.path, certDir: pair.dir, systemNamespace: SYSTEM, pod: 'pod-a' });
    server = await startServer(config, logs.log, { processMetrics: false, credentialCheck: { ca: pki.ca.cert } });
  }, 30_000);

  afterAll(async () => {
    await server?.shutdown('test end');
    await fake?.close();
    await registry?.stop();
    kubeconfig?.restore();
  });

  const writeSecret = (password: string) =>
    fake.put(stored(namespaceSecret('team-a', { plain: { username: 'robot', password, serverAddress: registry.address, registryAddress: `${registry.address}/team-a` } })));

  const answer = async () => {
    const response = await httpsCall(`https://127.0.0.1:${server.webhookPort}/v1/namespaces/team-a/registry-config`, { method: 'GET', ca: webhookCa, servername: 'localhost' });
    expect(response.body).not.toContain(GOOD);
    expect(response.body).not.toContain(WRONG);
    return response.json<RegistryConfig>();
  };
  const events = (reason: string) => fake.list<CoreEvent>('events', 'team-a').filter((e) => e.reason === reason && e.involvedObject.name === 'serverless-registry-config');

  it('good credentials: state ok, and no Event', async () => {
    writeSecret(GOOD);
    const config = await eventually(async () => {
      const body = await answer();
      expect(body.credentials?.state).toBe('ok');
      return body;
    }, 10_000);
    expect(config.credentials).toMatchObject({ state: 'ok', pushGranted: null });
    expect(Date.parse(config.credentials?.checkedAt ?? '')).toBeGreaterThan(0);
    expect(fake.list<CoreEvent>('events', 'team-a')).toHaveLength(0);
  });

  it('a wrong password: a Warning Event on the Secret and state rejected within seconds of the write', async () => {
    const written = Date.now();
    const secret = writeSecret(WRONG) as unknown as { metadata: { uid: string } };
    const warning = await eventually(() => {
      const [event] = events('RegistryCredentialsRejected');
      expect(event).toBeDefined();
      return event as CoreEvent;
    }, 10_000);
    const body = await eventually(async () => {
      const current = await answer();
      expect(current.credentials?.state).toBe('rejected');
      return current;
    }, 10_000);
    const elapsed = Date.now() - written;
    // 500 ms debounce + one login; generous for a loaded machine.
    expect(elapsed).toBeLessThan(8000);
    expect(warning).toMatchObject({ type: 'Warning', involvedObject: { kind: 'Secret', namespace: 'team-a', name: 'serverless-registry-config', uid: secret.metadata.uid } });
    expect(warning.message).toContain('UNAUTHORIZED');
    expect(warning.message).not.toContain(WRONG);
    expect(body.credentials?.reason).toContain('401');
    const metrics = await (await fetch(`http://127.0.0.1:${server.probePort}/metrics`)).text();
    expect(metrics).toMatch(/registry_config_webhook_credential_check_configs\{state="rejected"\} 1/);
    expect(metrics).toMatch(/registry_config_webhook_credential_check_attempts_total\{outcome="rejected"\} 1/);
    expect(metrics).not.toContain(WRONG);
  });

  it('fixing the password: a Normal RegistryCredentialsAccepted Event and state ok', async () => {
    writeSecret(GOOD);
    await eventually(() => expect(events('RegistryCredentialsAccepted')).toHaveLength(1), 10_000);
    expect((await answer()).credentials?.state).toBe('ok');
    expect(events('RegistryCredentialsAccepted')[0]?.type).toBe('Normal');
  });

  it('a watch hears the new outcome: MODIFIED with the credentials\' new state', async () => {
    const watch = await openWatch(`https://localhost:${server.webhookPort}/v1/namespaces/team-a/registry-config?watch=true`, {}, { ca: webhookCa });
    const lines = watch.events as Array<{ type: string; config?: RegistryConfig }>;
    try {
      await eventually(() => expect(lines[0]?.config?.credentials?.state).toBe('ok'));
      writeSecret(WRONG);
      await eventually(() => expect(lines.at(-1)?.config?.credentials?.state).toBe('rejected'), 10_000);
      expect(lines.at(-1)?.type).toBe('MODIFIED');
      writeSecret(GOOD);
      await eventually(() => expect(lines.at(-1)?.config?.credentials?.state).toBe('ok'), 10_000);
      expect(JSON.stringify(lines)).not.toContain(WRONG);
    } finally {
      watch.close();
    }
  });

  it('a hostile Secret pointing at the cloud metadata address is refused: no request, no Event, the answer says why', async () => {
    fake.put(stored(namespaceSecret('team-b', { plain: { username: 'x', password: 'y', serverAddress: '169.254.169.254', registryAddress: '169.254.169.254/x' } })));
    const response = await eventually(async () => {
      const body = (await httpsCall(`https://127.0.0.1:${server.webhookPort}/v1/namespaces/team-b/registry-config`, { method: 'GET', ca: webhookCa, servername: 'localhost' })).json<RegistryConfig>();
      expect(body.credentials?.state).toBe('skipped');
      return body;
    }, 10_000);
    expect(response.credentials?.reason).toMatch(/^refused: 169\.254\.169\.254 \(link-local\)/);
    expect(fake.list('events', 'team-b')).toHaveLength(0);
  });

  it('the registry stopped: a Warning RegistryUnreachable Event naming the cause', async () => {
    await registry.stop();
    // A changed password triggers a check, which finds the registry gone.
    writeSecret(`${GOOD}-x`);
    const event = await eventually(() => {
      const [found] = events('RegistryUnreachable');
      expect(found).toBeDefined();
      return found as CoreEvent;
    }, 10_000);
    expect(event.type).toBe('Warning');
    expect(event.message).toContain('ECONNREFUSED');
    expect((await answer()).credentials?.state).toBe('unreachable');
  });

  it('logged every outcome without a password', () => {
    const text = logs.text();
    expect(text).toContain('registry credential check');
    for (const secret of [GOOD, WRONG, b64(GOOD), b64(WRONG)]) expect(text).not.toContain(secret);
  });
});
