import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { RegistryConfig } from '../../src/registry/precedence.js';
import { createRegistryConfigClient, RegistryConfigError, type RegistryConfigClient } from '../../src/resolver/client.js';
import { RegistryIndex } from '../../src/resolver/registry-index.js';
import { registerResolverRoutes, type AuthorizeHook } from '../../src/resolver/routes.js';
import { createCertificateAuthority, createServingCertificate } from '../../src/tls/generate.js';
import { clusterSecret, defaultSecret, namespaceSecret, refOf, SYSTEM } from './secrets.js';

let apps: FastifyInstance[] = [];
let clients: RegistryConfigClient[] = [];

const tokenRequired: AuthorizeHook = async ({ authorization }) =>
  authorization === 'Bearer good' ? { allowed: true } : { allowed: false, status: 401, reason: 'bad token' };

async function serve(index: RegistryIndex, options: { https?: { key: string; cert: string }; port?: number; authorize?: AuthorizeHook } = {}) {
  const app = options.https ? Fastify({ logger: false, https: options.https }) : Fastify({ logger: false });
  registerResolverRoutes(app, { index, heartbeatMs: 50, ...(options.authorize ? { authorize: options.authorize } : {}) });
  apps.push(app);
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { app, port };
}

function client(options: Parameters<typeof createRegistryConfigClient>[0]) {
  const c = createRegistryConfigClient({ backoffMinMs: 20, backoffMaxMs: 100, ...options });
  clients.push(c);
  return c;
}

function newIndex() {
  const index = new RegistryIndex({ systemNamespace: SYSTEM });
  index.replaceAll([defaultSecret(), namespaceSecret('a', { rv: '1' })]);
  return index;
}

async function eventually(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  for (const app of apps) await app.close();
  apps = [];
});

describe('createRegistryConfigClient', () => {
  it('get: the config, null when nothing applies, RegistryConfigError otherwise', async () => {
    const index = newIndex();
    const { port } = await serve(index, { authorize: tokenRequired });
    let reads = 0;
    const c = client({ url: `http://127.0.0.1:${port}`, token: () => (reads++, 'good') });
    expect(await c.get('a')).toMatchObject({ namespace: 'a', source: 'namespace', revision: `uid-a-serverless-registry-config:1` });
    expect(reads).toBe(1);
    index.delete(refOf(defaultSecret()));
    expect(await c.get('b')).toBeNull();

    const error = await c.get('Not_A_Namespace').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryConfigError);
    expect(error).toMatchObject({ status: 400, code: 'INVALID_NAMESPACE' });

    const anonymous = client({ url: `http://127.0.0.1:${port}/` });
    await expect(anonymous.get('a')).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED', message: expect.stringMatching(/HTTP 401: bad token/) });
  });

  it('get over HTTPS trusting only the given CA; a wrong URL is an error, not "no config"', async () => {
    const ca = await createCertificateAuthority({ commonName: 'client test CA', validityMs: 24 * 60 * 60 * 1000 });
    const pair = await createServingCertificate({ ca, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityMs: 24 * 60 * 60 * 1000 });
    const { port } = await serve(newIndex(), { https: { key: pair.key, cert: pair.cert } });
    expect(await client({ url: `https://127.0.0.1:${port}`, ca: ca.cert }).get('a')).toMatchObject({ source: 'namespace' });
    await expect(client({ url: `https://127.0.0.1:${port}` }).get('a')).rejects.toThrow(/self-signed|certificate/);
    await expect(client({ url: `https://127.0.0.1:${port}/wrong`, ca: ca.cert }).get('a')).rejects.toMatchObject({ status: 404 });
  });

  it('watch: current state, changes, null when nothing applies; close() unsubscribes on the server', async () => {
    const index = newIndex();
    const { port } = await serve(index);
    const c = client({ url: `http://127.0.0.1:${port}` });
    const seen: Array<RegistryConfig | null> = [];
    const types: string[] = [];
    const handle = c.watch('a', (config, event) => {
      seen.push(config);
      types.push(event.type);
    });
    await eventually(() => seen.length === 1);
    index.upsert(clusterSecret());
    await eventually(() => seen.length === 2);
    index.replaceAll([]);
    await eventually(() => seen.length === 3);
    expect(seen.map((s) => s?.source ?? null)).toEqual(['namespace', 'cluster', null]);
    expect(types).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    handle.close();
    await eventually(() => index.subscriberCount() === 0);
  });

  it('watch reports a refused token through onError and keeps retrying until closed', async () => {
    const index = newIndex();
    const { port } = await serve(index, { authorize: tokenRequired });
    let token = 'bad';
    const errors: Error[] = [];
    const seen: Array<RegistryConfig | null> = [];
    const c = client({ url: `http://127.0.0.1:${port}`, token: () => token });
    const handle = c.watch('a', (config) => seen.push(config), { onError: (e) => errors.push(e) });
    await eventually(() => errors.length >= 2);
    expect(errors[0]).toMatchObject({ name: 'RegistryConfigError', status: 401, code: 'UNAUTHORIZED' });
    expect(seen).toEqual([]);
    token = 'good'; // e.g. a rotated projected token
    await eventually(() => seen.length === 1);
    handle.close();
    await eventually(() => index.subscriberCount() === 0);
  });

  it('watch reconnects after the server goes away, without repeating an unchanged answer', async () => {
    const index = newIndex();
    const first = await serve(index);
    const c = client({ url: `http://127.0.0.1:${first.port}` });
    const seen: Array<string | null> = [];
    const errors: Error[] = [];
    const abort = new AbortController();
    c.watch('a', (config) => seen.push(config?.revision ?? null), { signal: abort.signal, onError: (e) => errors.push(e) });
    await eventually(() => seen.length === 1);

    await first.app.close();
    apps = apps.filter((a) => a !== first.app);
    await new Promise((r) => setTimeout(r, 60)); // a few failed reconnects
    const second = await serve(index, { port: first.port });
    await eventually(() => index.subscriberCount() === 1);
    expect(seen).toHaveLength(1); // same answer after reconnecting: not delivered again
    expect(errors.length).toBeGreaterThan(0);

    index.upsert(namespaceSecret('a', { rv: '2' }));
    await eventually(() => seen.length === 2);
    expect(seen).toEqual(['uid-a-serverless-registry-config:1', 'uid-a-serverless-registry-config:2']);

    abort.abort();
    await eventually(() => index.subscriberCount() === 0);
    await second.app.close();
  });
});
