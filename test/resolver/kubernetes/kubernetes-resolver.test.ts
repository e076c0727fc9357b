/** The wiring: Config + KubeConnection in, a running resolver out, with auth decided by AUTH and where we run. */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/config.js';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { startKubernetesResolver } from '../../../src/wiring/kubernetes-resolver.js';
import type { RunningResolver } from '../../../src/wiring/resolver.js';
import { type FakeApiServer, startFakeApiServer } from '../../support/fake-apiserver.js';
import { captureLogs } from '../../support/log-capture.js';
import { defaultSecret, SYSTEM } from '../secrets.js';
import { eventually, stored } from './support.js';

let fake: FakeApiServer;
let resolvers: RunningResolver[] = [];
let apps: FastifyInstance[] = [];

beforeEach(async () => {
  fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a'] });
  fake.put(stored(defaultSecret()));
});

afterEach(async () => {
  for (const app of apps) await app.close();
  for (const resolver of resolvers) await resolver.stop();
  apps = [];
  resolvers = [];
  await fake.close();
});

async function run(env: Record<string, string>, inCluster: boolean) {
  const config = parseConfig([], { SYSTEM_NAMESPACE: SYSTEM, ...env }, { hostname: 'test', serviceAccountNamespace: undefined });
  const logs = captureLogs('info');
  const metrics = createMetrics({ processMetrics: false });
  const resolver = await startKubernetesResolver(config, { log: logs.log, metrics, kube: { kubeConfig: fake.kubeConfig(), inCluster, origin: 'test' } });
  resolvers.push(resolver);
  const app = Fastify({ logger: false });
  resolver.routes(app);
  apps.push(app);
  await app.ready();
  const status = async () => (await app.inject({ method: 'GET', url: '/v1/namespaces/team-a/registry-config' })).statusCode;
  return { resolver, logs, metrics, status };
}

describe('startKubernetesResolver', () => {
  it('AUTH=auto in a cluster: synced, ready, and callers need a token', async () => {
    const { resolver, logs, metrics, status } = await run({}, true);
    expect(resolver.mode).toBe('kubernetes');
    expect(resolver.readiness()).toEqual({ ok: true });
    expect(resolver.index.resolve('team-a').found).toBe(true);
    expect(await status()).toBe(401);
    expect(logs.text()).toMatch(/resolver API auth on/);
    expect((await metrics.resolverIndexSecrets.get()).values[0]?.value).toBe(1);
    expect((await metrics.resolverLastEventTimestamp.get()).values[0]?.value).toBeGreaterThan(0);
  });

  it('AUTH=auto through a kubeconfig (outside a cluster): callers need a token too', async () => {
    const { status, logs } = await run({}, false);
    expect(await status()).toBe(401);
    expect(logs.text()).toMatch(/resolver API auth on/);
  });

  it('AUTH=off: open, and the log says so', async () => {
    const { status, logs } = await run({ AUTH: 'off' }, false);
    expect(await status()).toBe(200);
    expect(logs.text()).toMatch(/resolver API auth off \(AUTH=off\)/);
    expect(logs.text()).toMatch(/authentication is off/);
  });

  it('AUTH=on outside a cluster and AUTH=off inside one are obeyed', async () => {
    expect(await (await run({ AUTH: 'on' }, false)).status()).toBe(401);
    expect(await (await run({ AUTH: 'off' }, true)).status()).toBe(200);
  });

  it('stop() ends the watches', async () => {
    const { resolver } = await run({ RESYNC_PERIOD: '1s' }, false);
    await fake.waitForWatches({ resource: 'secrets' }, 2);
    await resolver.stop();
    await eventually(() => expect(fake.watches).toHaveLength(0));
    expect(resolver.readiness()).toEqual({ ok: false, reason: 'stopped' });
  });
});
