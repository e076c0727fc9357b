/**
 * Server-side request forgery: hostile namespace Secrets must not make our pod reach what their
 * authors cannot reach. Each rule is attacked with servers on 127.0.0.1 that count what reaches them.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAddressPolicy, parseAllowlist } from '../../src/credentials/address-policy.js';
import { checkLogin, type LoginTarget } from '../../src/credentials/login.js';
import { MAX_BODY_BYTES, USER_AGENT } from '../../src/credentials/http-exchange.js';
import { createTestPki, type TestPki } from '../support/registry/docker-registry.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
interface Hostile {
  port: number;
  hits: IncomingMessage[];
  connections: number;
  close(): Promise<void>;
}

async function hostile(pki: TestPki | undefined, handler: Handler): Promise<Hostile> {
  const hits: IncomingMessage[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    hits.push(req);
    handler(req, res);
  };
  const server = pki ? createHttpsServer({ cert: pki.serving.cert, key: pki.serving.key }, onRequest) : createHttpServer(onRequest);
  const state = { connections: 0 };
  (server as Server).on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const basicChallenge: Handler = (_req, res) => {
  res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
};

function ns(overrides: Partial<LoginTarget>): LoginTarget {
  return { username: 'u', password: 'p', serverAddress: '', registryAddress: 'r', trusted: false, ...overrides };
}

describe('SSRF rules for namespace-scoped configs', () => {
  let pki: TestPki;
  const servers: Hostile[] = [];
  beforeAll(async () => {
    pki = await createTestPki();
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
  });
  const start = async (handler: Handler, tls = true): Promise<Hostile> => {
    const server = await hostile(tls ? pki : undefined, handler);
    servers.push(server);
    return server;
  };
  const noAllow = () => ({ policy: createAddressPolicy(), timeoutMs: 1000, ca: pki.ca.cert });
  const allowLoopback = () => ({ policy: createAddressPolicy({ allow: ['127.0.0.1/32'] }), timeoutMs: 1000, ca: pki.ca.cert });

  it('refuses 127.0.0.1 without an allowlist: nothing connects', async () => {
    const server = await start(basicChallenge);
    const outcome = await checkLogin(ns({ serverAddress: `127.0.0.1:${server.port}` }), noAllow());
    expect(outcome.state).toBe('skipped');
    expect(outcome.reason).toMatch(/^refused: 127\.0\.0\.1 \(loopback\)/);
    expect(server.connections).toBe(0);
  });

  it('checks 127.0.0.1 once CREDENTIAL_CHECK_ALLOW names it, with its own User-Agent', async () => {
    const server = await start(basicChallenge);
    const outcome = await checkLogin(ns({ serverAddress: `127.0.0.1:${server.port}` }), allowLoopback());
    expect(outcome.state).toBe('rejected');
    expect(server.hits[0]?.headers['user-agent']).toBe(USER_AGENT);
  });

  it.each([
    ['169.254.169.254', 'link-local'],
    ['[fd00:ec2::254]', 'private'],
    ['10.1.2.3:5000', 'private'],
    ['172.20.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.100.100.200', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['[::1]', 'loopback'],
    ['[fe80::1]', 'link-local'],
    ['[::ffff:169.254.169.254]', 'link-local'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['[64:ff9b::a9fe:a9fe]', 'link-local'],
    ['[2002:a9fe:a9fe::1]', '6to4'],
    ['2130706433', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
  ])('refuses %s (%s), the cloud metadata address included', async (address, kind) => {
    const outcome = await checkLogin(ns({ serverAddress: address }), noAllow());
    expect(outcome.state).toBe('skipped');
    expect(outcome.reason).toContain(`(${kind})`);
  });

  it.each(['localhost', 'localhost.', 'registry.kyma-system.svc', 'registry.kyma-system.svc.cluster.local', 'kubernetes'])('refuses the cluster-internal name %s before any DNS look-up', async (host) => {
    const looked: string[] = [];
    const outcome = await checkLogin(ns({ serverAddress: host }), { ...noAllow(), lookup: async (h) => (looked.push(h), [{ address: '93.184.216.34', family: 4 }]) });
    expect(outcome.state).toBe('skipped');
    expect(looked).toEqual([]);
  });

  it('refuses a host name that resolves to a private address, and one with any private answer among public ones', async () => {
    const outcome = await checkLogin(ns({ serverAddress: 'registry.example.com' }), { ...noAllow(), lookup: async () => [{ address: '10.0.0.5', family: 4 }] });
    expect(outcome).toMatchObject({ state: 'skipped' });
    expect(outcome.reason).toContain('registry.example.com resolves to 10.0.0.5 (private)');
    const mixed = await checkLogin(ns({ serverAddress: 'registry.example.com' }), {
      ...noAllow(),
      lookup: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ],
    });
    expect(mixed.reason).toContain('169.254.169.254 (link-local)');
  });

  it('connects to the address the name resolved to, once: a second answer cannot slip another address in', async () => {
    const server = await start(basicChallenge);
    let calls = 0;
    // A rebinding resolver: a public-looking answer for the check, then loopback. We connect only to what was checked.
    const outcome = await checkLogin(ns({ serverAddress: `registry.test:${server.port}` }), {
      policy: createAddressPolicy({ allow: ['127.0.0.1/32'] }),
      timeoutMs: 1000,
      ca: pki.ca.cert,
      lookup: async () => (calls++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '169.254.169.254', family: 4 }]),
    });
    // The second request (login) resolves again and is refused: no request ever goes to an unchecked address.
    expect(outcome.state).toBe('skipped');
    expect(outcome.reason).toContain('169.254.169.254');
    expect(server.hits).toHaveLength(1);
  });

  it('refuses http:// in a namespace: nothing connects', async () => {
    const server = await start(basicChallenge, false);
    const outcome = await checkLogin(ns({ serverAddress: `http://127.0.0.1:${server.port}` }), allowLoopback());
    expect(outcome.state).toBe('skipped');
    expect(outcome.reason).toContain('https only');
    expect(server.connections).toBe(0);
  });

  it('does not follow a redirect to another host', async () => {
    const elsewhere = await start(basicChallenge);
    const server = await start((_req, res) => res.writeHead(302, { location: `https://localhost:${elsewhere.port}/v2/` }).end());
    const outcome = await checkLogin(ns({ serverAddress: `127.0.0.1:${server.port}` }), { ...allowLoopback(), policy: createAddressPolicy({ allow: ['127.0.0.1/32', 'localhost'] }) });
    expect(outcome.state).toBe('skipped');
    expect(outcome.reason).toContain('redirect to another host');
    expect(elsewhere.connections).toBe(0);
  });

  it('refuses a token realm on a forbidden address (the registry names it, so the registry\'s author does)', async () => {
    const server = await start((_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer realm="https://169.254.169.254/latest/meta-data/",service="x"' }).end());
    const outcome = await checkLogin(ns({ serverAddress: `127.0.0.1:${server.port}` }), allowLoopback());
    expect(outcome.state).toBe('skipped');
    expect(outcome.reason).toContain('169.254.169.254 (link-local)');
  });

  it('reads at most 64 KiB of an answer and gives up on an oversized token answer', async () => {
    let sent = 0;
    const server = await start((req, res) => {
      if (req.url?.startsWith('/v2/')) {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="https://127.0.0.1:${server.port}/token",service="x"` }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = (): void => {
        while (sent < 50 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.write('{"token":"');
      pump();
    });
    const outcome = await checkLogin(ns({ serverAddress: `127.0.0.1:${server.port}` }), { ...allowLoopback(), timeoutMs: 5000 });
    expect(outcome).toMatchObject({ state: 'unreachable', cause: 'protocol' });
    expect(outcome.reason).toContain(`larger than ${MAX_BODY_BYTES} bytes`);
    // The connection was cut: nowhere near the 50 MiB the server wanted to send.
    expect(sent).toBeLessThan(10 * 1024 * 1024);
  });

  it('trusts a system-namespace config: plain http to an internal address is checked', async () => {
    const server = await start((_req, res) => res.writeHead(200).end('{}'), false);
    const outcome = await checkLogin({ ...ns({ serverAddress: `127.0.0.1:${server.port}` }), trusted: true, plainHttpDefault: true }, noAllow());
    expect(outcome).toMatchObject({ state: 'ok' });
    expect(server.hits).toHaveLength(1);
  });

  it('rejects allowlist entries that are neither CIDR, address nor host name', () => {
    expect(() => parseAllowlist(['10.0.0.0/33'])).toThrow(/10\.0\.0\.0\/33/);
    expect(() => parseAllowlist(['http://x'])).toThrow();
    expect(parseAllowlist(['10.0.0.0/8', 'registry.corp', '*.corp.example', 'fd00::/8']).hosts).toEqual(['registry.corp']);
  });
});
