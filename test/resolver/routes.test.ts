import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryIndex } from '../../src/resolver/registry-index.js';
import { registerResolverRoutes, type AuthorizeHook } from '../../src/resolver/routes.js';
import { b64, CANARY_PASSWORD, CANARY_USERNAME, clusterSecret, defaultSecret, NAME, namespaceSecret, refOf, SYSTEM } from './secrets.js';
import { openWatch, type WatchReader } from './watch-stream.js';

const CONFIG_KEYS = ['namespace', 'source', 'secret', 'registryAddress', 'serverAddress', 'isInternal', 'pushRegAddress', 'pullRegAddress', 'revision', 'skipped'].sort();

let apps: FastifyInstance[] = [];
let watches: WatchReader[] = [];

async function appWith(options: { authorize?: AuthorizeHook; heartbeatMs?: number; requestTimeout?: number } = {}) {
  const index = new RegistryIndex({ systemNamespace: SYSTEM });
  index.replaceAll([defaultSecret(), namespaceSecret('a', { uid: 'uid-a', rv: '7' }), clusterSecret({ drop: ['username'] })]);
  const app = Fastify({ logger: false, ...(options.requestTimeout ? { requestTimeout: options.requestTimeout } : {}) });
  registerResolverRoutes(app, {
    index,
    ...(options.authorize ? { authorize: options.authorize } : {}),
    ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
  });
  apps.push(app);
  return { app, index };
}

async function listening(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

async function watch(url: string, headers: Record<string, string> = {}) {
  const reader = await openWatch(url, headers);
  watches.push(reader);
  return reader;
}

afterEach(async () => {
  for (const w of watches) w.close();
  watches = [];
  for (const app of apps) await app.close();
  apps = [];
});

describe('GET /v1/namespaces/{namespace}/registry-config', () => {
  it('200: the config, its explanation, and no credential', async () => {
    const { app } = await appWith();
    const response = await app.inject({ method: 'GET', url: '/v1/namespaces/a/registry-config' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json<Record<string, unknown>>();
    expect(Object.keys(body).sort()).toEqual(CONFIG_KEYS);
    expect(body).toEqual({
      namespace: 'a',
      source: 'namespace',
      secret: { namespace: 'a', name: NAME },
      registryAddress: 'a.registry.example.com/kyma',
      serverAddress: 'a.registry.example.com',
      isInternal: false,
      pushRegAddress: 'a.registry.example.com/kyma',
      pullRegAddress: 'a.registry.example.com/kyma',
      revision: 'uid-a:7',
      skipped: ['cluster-wide Secret skipped: registry config Secret kyma-system/serverless-registry-config: missing username'],
    });
    for (const value of [CANARY_PASSWORD, CANARY_USERNAME, b64(CANARY_PASSWORD), 'password', 'dockerconfigjson']) expect(response.body).not.toContain(value);
  });

  it('404 with the reason when nothing applies', async () => {
    const { app, index } = await appWith();
    index.delete(refOf(defaultSecret()));
    const response = await app.inject({ method: 'GET', url: '/v1/namespaces/b/registry-config' });
    expect(response.statusCode).toBe(404);
    const body = response.json<Record<string, unknown>>();
    expect(body).toMatchObject({ code: 'NO_REGISTRY_CONFIG', namespace: 'b', skipped: [expect.stringMatching(/missing username/)] });
    expect(body.reason).toMatch(/no registry config applies to namespace b/);
    expect(body.message).toBe(body.reason);
  });

  it('400 for a namespace that is not a DNS-1123 label, or a bad watch parameter', async () => {
    const { app } = await appWith();
    for (const ns of ['A', '-a', 'a_b', 'a.b', 'x'.repeat(64), '%20a', 'a%2Fb', 'a%00']) {
      const response = await app.inject({ method: 'GET', url: `/v1/namespaces/${ns}/registry-config` });
      expect(response.statusCode, ns).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_NAMESPACE' });
    }
    const bad = await app.inject({ method: 'GET', url: '/v1/namespaces/a/registry-config?watch=yes' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'INVALID_WATCH' });
  });

  it('passes the authorize hook\'s 401/403 through, and answers 503 when it throws', async () => {
    const calls: Array<[string | undefined, string]> = [];
    const authorize: AuthorizeHook = async ({ authorization }, namespace) => {
      calls.push([authorization, namespace]);
      if (authorization === undefined) return { allowed: false, status: 401, reason: 'a bearer token is required' };
      if (authorization === 'Bearer broken') throw new Error('TokenReview failed');
      if (namespace !== 'a') return { allowed: false, status: 403, reason: `may not read ${namespace}` };
      return { allowed: true };
    };
    const { app } = await appWith({ authorize });
    const anonymous = await app.inject({ method: 'GET', url: '/v1/namespaces/a/registry-config' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    expect(anonymous.json()).toEqual({ code: 'UNAUTHORIZED', message: 'a bearer token is required' });

    const forbidden = await app.inject({ method: 'GET', url: '/v1/namespaces/b/registry-config', headers: { authorization: 'Bearer t' } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toEqual({ code: 'FORBIDDEN', message: 'may not read b' });

    const broken = await app.inject({ method: 'GET', url: '/v1/namespaces/a/registry-config', headers: { authorization: 'Bearer broken' } });
    expect(broken.statusCode).toBe(503);

    const ok = await app.inject({ method: 'GET', url: '/v1/namespaces/a/registry-config', headers: { authorization: 'Bearer t' } });
    expect(ok.statusCode).toBe(200);
    expect(calls).toEqual([[undefined, 'a'], ['Bearer t', 'b'], ['Bearer broken', 'a'], ['Bearer t', 'a']]);

    const watchForbidden = await app.inject({ method: 'GET', url: '/v1/namespaces/b/registry-config?watch=true', headers: { authorization: 'Bearer t' } });
    expect(watchForbidden.statusCode).toBe(403);
  });
});

describe('?watch=true', () => {
  it('streams the current state, then each change within a second; unsubscribes on disconnect', async () => {
    const { app, index } = await appWith({ heartbeatMs: 60_000 });
    const base = await listening(app);
    const stream = await watch(`${base}/v1/namespaces/a/registry-config?watch=true`);
    expect(stream.response.statusCode).toBe(200);
    expect(stream.response.headers['content-type']).toBe('application/x-ndjson');
    const first = await stream.waitFor(() => true);
    expect(first).toMatchObject({ type: 'ADDED', config: { namespace: 'a', source: 'namespace', revision: 'uid-a:7' } });
    expect(index.subscriberCount()).toBe(1);

    const changedAt = Date.now();
    index.upsert(clusterSecret({ rv: '2' })); // now valid: cluster-wide wins
    const modified = await stream.waitFor((e) => e.type === 'MODIFIED', 1000);
    expect(Date.now() - changedAt).toBeLessThan(1000);
    expect(modified).toMatchObject({ config: { source: 'cluster', revision: `uid-${SYSTEM}-${NAME}:2`, skipped: [] } });

    index.upsert(namespaceSecret('b')); // another namespace: nothing for a
    index.replaceAll([]);
    const deleted = await stream.waitFor((e) => e.type === 'DELETED');
    expect(deleted).toMatchObject({ config: null, namespace: 'a', reason: expect.stringMatching(/no registry config applies/) });
    expect(stream.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(JSON.stringify(stream.events)).not.toContain(b64(CANARY_PASSWORD));

    stream.close();
    await stream.ended;
    await expectEventually(() => index.subscriberCount() === 0);
  });

  it('starts with DELETED when nothing applies; heartbeats keep the stream alive past the request timeout', async () => {
    const { app, index } = await appWith({ heartbeatMs: 40, requestTimeout: 150 });
    index.replaceAll([]);
    const base = await listening(app);
    const stream = await watch(`${base}/v1/namespaces/zz/registry-config?watch=1`);
    expect(await stream.waitFor(() => true)).toMatchObject({ type: 'DELETED', config: null, namespace: 'zz' });
    await new Promise((r) => setTimeout(r, 400));
    expect(stream.events.filter((e) => e.type === 'HEARTBEAT').length).toBeGreaterThanOrEqual(4);
    index.upsert(namespaceSecret('zz'));
    expect(await stream.waitFor((e) => e.type === 'MODIFIED')).toMatchObject({ config: { source: 'namespace' } });
  });

  it('closing the server ends open streams promptly and leaves no subscriber', async () => {
    const { app, index } = await appWith({ heartbeatMs: 60_000 });
    const base = await listening(app);
    const streams = await Promise.all([1, 2, 3].map(() => watch(`${base}/v1/namespaces/a/registry-config?watch=true`)));
    await Promise.all(streams.map((s) => s.waitFor(() => true)));
    expect(index.subscriberCount()).toBe(3);
    const started = Date.now();
    await app.close();
    await Promise.all(streams.map((s) => s.ended));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(index.subscriberCount()).toBe(0);
  });
});

async function expectEventually(condition: () => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
