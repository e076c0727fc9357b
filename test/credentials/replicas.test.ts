/**
 * Three replicas, one registry: only the propagation leader logs in and writes Events, so the
 * registry does not see three times the logins and the user does not get three Events.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { eventually } from '../support/eventually.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { captureLogs } from '../support/log-capture.js';
import { createTestPki, HAVE_DOCKER_REGISTRY, startDockerRegistry, type RunningRegistry } from '../support/registry/docker-registry.js';
import { devCertificates } from '../support/webhook.js';

const SYSTEM = 'kyma-system';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe.skipIf(!HAVE_DOCKER_REGISTRY)('credential checks with three replicas', () => {
  let fake: FakeApiServer;
  let registry: RunningRegistry;
  const replicas: RunningServer[] = [];
  const previousKubeconfig = process.env.KUBECONFIG;

  beforeAll(async () => {
    const pki = await createTestPki();
    registry = await startDockerRegistry(pki, { kind: 'htpasswd', users: { robot: 'right' } });
    fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a'] });
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'rcw-replicas-')), 'kubeconfig');
    writeFileSync(kubeconfig, fake.kubeConfig().exportConfig());
    process.env.KUBECONFIG = kubeconfig;
    const pair = await devCertificates();
    for (const pod of ['pod-a', 'pod-b', 'pod-c']) {
      const config = parseConfig(
        [],
        {
          PORT: '0',
          PROBE_PORT: '0',
          HOST: '127.0.0.1',
          CERT_DIR: pair.dir,
          KUBECONFIG: kubeconfig,
          RESOLVER_SOURCE: 'kubernetes',
          POD_NAMESPACE: SYSTEM,
          AUTH: 'off',
          PROPAGATION: 'on',
          LEASE_DURATION: '3s',
          LEASE_RENEW_DEADLINE: '2s',
          LEASE_RETRY_PERIOD: '200ms',
          SHUTDOWN_DELAY: '0',
          CREDENTIAL_CHECK: 'on',
          CREDENTIAL_CHECK_ALLOW: '127.0.0.1/32',
        },
        { hostname: pod, serviceAccountNamespace: undefined },
      );
      replicas.push(await startServer(config, captureLogs('warn').log, { processMetrics: false, credentialCheck: { ca: pki.ca.cert } }));
    }
  }, 60_000);

  afterAll(async () => {
    for (const replica of replicas) await replica.shutdown('test end');
    await fake?.close();
    await registry?.stop();
    if (previousKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = previousKubeconfig;
  });

  it('a wrong password costs one login and one Event, not three', async () => {
    // Wait until one replica leads.
    await eventually(async () => {
      const leaders = await Promise.all(replicas.map(async (r) => (await r.metrics.leaderElectionIsLeader.get()).values[0]?.value ?? 0));
      expect(leaders.reduce((a, b) => a + b, 0)).toBe(1);
    }, 10_000);
    fake.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { namespace: 'team-a', name: 'serverless-registry-config', labels: { 'serverless.kyma-project.io/remote-registry': 'config' } },
      data: { username: b64('robot'), password: b64('wrong'), serverAddress: b64(registry.address), registryAddress: b64(registry.address) },
    });
    const rejected = () => fake.list<{ reason: string; count: number }>('events', 'team-a').filter((e) => e.reason === 'RegistryCredentialsRejected');
    await eventually(() => expect(rejected()).toHaveLength(1), 10_000);
    // Give the other replicas every chance to do the same (they must not).
    await new Promise((r) => setTimeout(r, 1500));
    expect(rejected()).toHaveLength(1);
    expect(rejected()[0]?.count).toBe(1);
    const attempts = await Promise.all(replicas.map(async (r) => (await r.metrics.credentialCheckAttempts.get()).values.reduce((sum, v) => sum + v.value, 0)));
    expect(attempts.reduce((a, b) => a + b, 0)).toBe(1);
  }, 30_000);
});
