/**
 * Three replicas, one registry: only the propagation leader logs in and writes Events, so the
 * registry does not see three times the logins and the user does not get three Events; the leader
 * publishes its outcomes in a ConfigMap, so every replica's resolver answers carry them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryConfig } from '../../src/resolver/api.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { eventually } from '../support/eventually.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { httpsCall } from '../support/https-client.js';
import { captureLogs } from '../support/log-capture.js';
import { createTestPki, HAVE_DOCKER_REGISTRY, startDockerRegistry, type RunningRegistry } from '../support/registry/docker-registry.js';
import { openWatch } from '../resolver/watch-stream.js';
import { devCertificates } from '../support/webhook.js';
import { replicaConfig } from './replica-config.js';
import { namespaceSecret } from '../resolver/secrets.js';
import { stored } from '../resolver/kubernetes/support.js';
import { type FakeKubeconfig, useFakeKubeconfig } from '../support/fake-kubeconfig.js';

const SYSTEM = 'kyma-system';
const GOOD = 'c0rrect-h0rse-b4ttery';
const WRONG = 'wr0ng-h0rse-b4ttery';
const PODS = ['pod-a', 'pod-b', 'pod-c'];
const STATUS_CONFIG_MAP = 'registry-config-webhook-propagation-credential-status';

describe.skipIf(!HAVE_DOCKER_REGISTRY)('credential checks with three replicas', () => {
  let fake: FakeApiServer;
  let registry: RunningRegistry;
  const replicas: RunningServer[] = [];
  let kubeconfig: FakeKubeconfig | undefined;
  let webhookCa: string;

  beforeAll(async () => {
    const pki = await createTestPki();
    registry = await startDockerRegistry(pki, { kind: 'htpasswd', users: { robot: GOOD } });
    fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a'] });
    kubeconfig = useFakeKubeconfig(fake);
    const pair = await devCertificates();
    webhookCa = pair.ca;
    for (const pod of PODS) {
      const config = replicaConfig({ kubeconfig: kubeconfig.path, certDir: pair.dir, systemNamespace: SYSTEM, pod });
      replicas.push(await startServer(config, captureLogs('warn').log, { processMetrics: false, credentialCheck: { ca: pki.ca.cert } }));
    }
  }, 60_000);

  afterAll(async () => {
    for (const replica of replicas) await replica.shutdown('test end');
    await fake?.close();
    await registry?.stop();
    kubeconfig?.restore();
  });

  const writeSecret = (password: string) =>
    fake.put(stored(namespaceSecret('team-a', { plain: { username: 'robot', password, serverAddress: registry.address, registryAddress: registry.address } })));
  const answer = async (replica: RunningServer) => {
    const response = await httpsCall(`https://127.0.0.1:${replica.webhookPort}/v1/namespaces/team-a/registry-config`, { method: 'GET', ca: webhookCa, servername: 'localhost' });
    expect(response.status).toBe(200);
    return response.json<RegistryConfig>();
  };
  const states = () => Promise.all(replicas.map(async (r) => (await answer(r)).credentials?.state));
  const logins = async () => (await Promise.all(replicas.map(async (r) => (await r.metrics.credentialCheckAttempts.get()).values.reduce((sum, v) => sum + v.value, 0)))).reduce((a, b) => a + b, 0);
  const leaderIndex = async () => {
    const leaders = await Promise.all(replicas.map(async (r) => (await r.metrics.leaderElectionIsLeader.get()).values[0]?.value ?? 0));
    expect(leaders.reduce((a, b) => a + b, 0)).toBe(1);
    return leaders.indexOf(1);
  };
  const events = (reason: string) => fake.list<{ reason: string; count: number }>('events', 'team-a').filter((e) => e.reason === reason);

  it('a wrong password costs one login and one Event, not three, and every replica answers rejected', async () => {
    await eventually(() => leaderIndex(), 10_000);
    writeSecret(WRONG);
    await eventually(() => expect(events('RegistryCredentialsRejected')).toHaveLength(1), 10_000);
    // Every replica behind the Service answers with the leader's outcome within seconds.
    await eventually(async () => expect(await states()).toEqual(['rejected', 'rejected', 'rejected']), 5_000);
    const follower = replicas[((await leaderIndex()) + 1) % replicas.length] as RunningServer;
    expect((await answer(follower)).credentials).toMatchObject({ state: 'rejected', pushGranted: null, reason: expect.stringContaining('401') });
    // Give the other replicas every chance to log in or write Events too (they must not).
    await new Promise((r) => setTimeout(r, 1500));
    expect(events('RegistryCredentialsRejected')).toHaveLength(1);
    expect(events('RegistryCredentialsRejected')[0]?.count).toBe(1);
    expect(await logins()).toBe(1);
  }, 30_000);

  it('fixing the password turns every replica to ok; a follower\'s watch hears MODIFIED', async () => {
    const follower = replicas[((await leaderIndex()) + 1) % replicas.length] as RunningServer;
    const watch = await openWatch(`https://localhost:${follower.webhookPort}/v1/namespaces/team-a/registry-config?watch=true`, {}, { ca: webhookCa });
    const lines = watch.events as Array<{ type: string; config?: RegistryConfig }>;
    try {
      await eventually(() => expect(lines[0]?.config?.credentials?.state).toBe('rejected'));
      writeSecret(GOOD);
      await eventually(async () => expect(await states()).toEqual(['ok', 'ok', 'ok']), 10_000);
      await eventually(() => expect(lines.at(-1)).toMatchObject({ type: 'MODIFIED', config: { credentials: { state: 'ok' } } }));
      expect(events('RegistryCredentialsAccepted')).toHaveLength(1);
      expect(await logins()).toBe(2);
    } finally {
      watch.close();
    }
  }, 30_000);

  it('only the leader writes the outcomes ConfigMap, which holds no credential', async () => {
    const leader = PODS[await leaderIndex()] as string;
    const writes = fake.requests.filter((r) => r.resource === 'configmaps' && ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
    expect(writes.length).toBeGreaterThan(0);
    for (const write of writes) expect(write.headers['user-agent']).toContain(`(${leader})`);
    const configMap = fake.get<{ data?: Record<string, string> }>('configmaps', SYSTEM, STATUS_CONFIG_MAP);
    const entry = JSON.parse(configMap?.data?.['team-a.serverless-registry-config'] ?? '{}') as Record<string, unknown>;
    expect(entry).toMatchObject({ state: 'ok', secretUid: expect.any(String), secretResourceVersion: expect.any(String) });
    expect(JSON.stringify(configMap)).not.toMatch(new RegExp(`${GOOD}|${WRONG}|robot`));
  });

  it('a deleted config\'s outcome leaves the ConfigMap', async () => {
    expect(fake.get<{ data?: Record<string, string> }>('configmaps', SYSTEM, STATUS_CONFIG_MAP)?.data).toHaveProperty(['team-a.serverless-registry-config']);
    fake.remove('secrets', 'team-a', 'serverless-registry-config');
    await eventually(() => expect(fake.get<{ data?: Record<string, string> }>('configmaps', SYSTEM, STATUS_CONFIG_MAP)?.data ?? {}).not.toHaveProperty('team-a.serverless-registry-config'), 5_000);
  });
});
