/**
 * The login check against Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1 with TLS:
 * htpasswd (Basic) auth, and token auth with a token issuer of our own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAddressPolicy } from '../../src/credentials/address-policy.js';
import { checkLogin, type LoginTarget } from '../../src/credentials/login.js';
import { createTestPki, HAVE_DOCKER_REGISTRY, startDockerRegistry, type RunningRegistry, type TestPki } from '../support/registry/docker-registry.js';
import { startTokenIssuer, type TokenIssuer } from '../support/registry/token-issuer.js';

const allowLoopback = createAddressPolicy({ allow: ['127.0.0.1/32'] });

function target(overrides: Partial<LoginTarget>): LoginTarget {
  return { username: 'robot', password: 'right-password', serverAddress: '', registryAddress: '', trusted: false, ...overrides };
}

describe.skipIf(!HAVE_DOCKER_REGISTRY)('login check against docker-registry with htpasswd (Basic)', () => {
  let pki: TestPki;
  let registry: RunningRegistry;
  beforeAll(async () => {
    pki = await createTestPki();
    registry = await startDockerRegistry(pki, { kind: 'htpasswd', users: { robot: 'right-password' } });
  }, 30_000);
  afterAll(async () => registry?.stop());

  const options = () => ({ policy: allowLoopback, timeoutMs: 5000, ca: pki.ca.cert });

  it('accepts good credentials; push rights are unknown with Basic', async () => {
    const outcome = await checkLogin(target({ serverAddress: registry.address, registryAddress: `${registry.address}/team-a` }), options());
    expect(outcome).toMatchObject({ state: 'ok', pushGranted: null });
  });

  it('accepts https://host:port/v2/ as serverAddress too', async () => {
    const outcome = await checkLogin(target({ serverAddress: `https://${registry.address}/v2/`, registryAddress: registry.address }), options());
    expect(outcome.state).toBe('ok');
  });

  it('rejects a wrong password with the registry\'s own error code, and never shows the password', async () => {
    const outcome = await checkLogin(target({ password: 'wrong-password', serverAddress: registry.address, registryAddress: registry.address }), options());
    expect(outcome).toMatchObject({ state: 'rejected', code: 'UNAUTHORIZED' });
    expect(JSON.stringify(outcome)).not.toContain('wrong-password');
  });

  it('reports a TLS failure when the registry\'s CA is not trusted', async () => {
    const outcome = await checkLogin(target({ serverAddress: registry.address, registryAddress: registry.address }), { policy: allowLoopback, timeoutMs: 5000 });
    expect(outcome).toMatchObject({ state: 'unreachable', cause: 'tls' });
  });

  it('reports a timeout when the registry stops answering (slow registry)', async () => {
    registry.pause();
    try {
      const started = Date.now();
      const outcome = await checkLogin(target({ serverAddress: registry.address, registryAddress: registry.address }), { ...options(), timeoutMs: 400 });
      expect(outcome).toMatchObject({ state: 'unreachable', cause: 'timeout' });
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      registry.resume();
    }
  });

  it('reports a refused connection when the registry is stopped', async () => {
    const stopped = await startDockerRegistry(pki, { kind: 'htpasswd', users: { robot: 'right-password' } });
    await stopped.stop();
    const outcome = await checkLogin(target({ serverAddress: stopped.address, registryAddress: stopped.address }), options());
    expect(outcome).toMatchObject({ state: 'unreachable', cause: 'tcp' });
    expect(outcome.reason).toContain('ECONNREFUSED');
  }, 30_000);

  it('reaches the registry through a host name resolved once (SNI and Host carry the name)', async () => {
    const lookups: string[] = [];
    const outcome = await checkLogin(target({ serverAddress: `registry.test:${registry.port}`, registryAddress: `registry.test:${registry.port}/x` }), {
      ...options(),
      lookup: async (host) => {
        lookups.push(host);
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    expect(outcome.state).toBe('ok');
    // One look-up per request (two requests: the challenge, then the login): never one per connection attempt inside Node.
    expect(lookups).toEqual(['registry.test', 'registry.test']);
  });
});

describe.skipIf(!HAVE_DOCKER_REGISTRY)('login check against docker-registry with token auth', () => {
  let pki: TestPki;
  let issuer: TokenIssuer;
  let registry: RunningRegistry;
  beforeAll(async () => {
    pki = await createTestPki();
    issuer = await startTokenIssuer({
      signing: pki.ca,
      serving: pki.serving,
      accounts: { pusher: { password: 'push-pass', actions: ['pull', 'push'] }, reader: { password: 'read-pass', actions: ['pull'] } },
    });
    registry = await startDockerRegistry(pki, { kind: 'token', realm: issuer.realm, service: issuer.service, issuer: issuer.issuer, rootCertBundle: pki.ca.cert });
  }, 30_000);
  afterAll(async () => {
    await registry?.stop();
    await issuer?.close();
  });
  const options = () => ({ policy: allowLoopback, timeoutMs: 5000, ca: pki.ca.cert });

  it('accepts an account with push rights and says push is granted on the scope asked for', async () => {
    const outcome = await checkLogin(target({ username: 'pusher', password: 'push-pass', serverAddress: registry.address, registryAddress: `${registry.address}/team-a` }), options());
    expect(outcome).toMatchObject({ state: 'ok', pushGranted: true });
    const last = issuer.requests.at(-1);
    expect(last?.get('scope')).toBe('repository:team-a/registry-config-webhook-credential-check:push,pull');
    expect(last?.get('service')).toBe(issuer.service);
  });

  it('accepts a read-only account but says push is not granted', async () => {
    const outcome = await checkLogin(target({ username: 'reader', password: 'read-pass', serverAddress: registry.address, registryAddress: `${registry.address}/team-a` }), options());
    expect(outcome).toMatchObject({ state: 'ok', pushGranted: false });
    expect(outcome.reason).toContain('read-only');
  });

  it('rejects a wrong password at the token endpoint', async () => {
    const outcome = await checkLogin(target({ username: 'pusher', password: 'nope', serverAddress: registry.address, registryAddress: registry.address }), options());
    expect(outcome).toMatchObject({ state: 'rejected', code: 'UNAUTHORIZED' });
  });
});
