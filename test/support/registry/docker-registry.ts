/**
 * Starts Debian's `docker-registry` (CNCF distribution 2.8) on 127.0.0.1 for the tests: TLS from a
 * test CA made with src/tls/generate.ts, and htpasswd (Basic) or token auth. Missing binary: the
 * tests skip with one line saying what to install.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { createCertificateAuthority, createServingCertificate, type CertificateAuthority } from '../../../src/tls/generate.js';

export const DOCKER_REGISTRY_BIN = '/usr/bin/docker-registry';
export const HAVE_DOCKER_REGISTRY = existsSync(DOCKER_REGISTRY_BIN);
if (!HAVE_DOCKER_REGISTRY) console.log('credential check tests against a real registry skipped: install Debian\'s docker-registry (apt-get install -y docker-registry)');

export interface TestPki {
  ca: CertificateAuthority;
  /** Serving pair for 127.0.0.1 and localhost, signed by ca. */
  serving: { cert: string; key: string };
}

export async function createTestPki(): Promise<TestPki> {
  const ca = await createCertificateAuthority({ commonName: 'credential-check test CA', validityMs: 24 * 3600_000 });
  const pair = await createServingCertificate({ ca, dnsNames: ['localhost', 'registry.test'], ipAddresses: ['127.0.0.1'], validityMs: 24 * 3600_000 });
  return { ca, serving: { cert: pair.cert, key: pair.key } };
}

export type RegistryAuth =
  | { kind: 'htpasswd'; users: Record<string, string> }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface RunningRegistry {
  port: number;
  /** `127.0.0.1:<port>`, as a serverAddress. */
  address: string;
  process: ChildProcess;
  /** Stops answering without closing the port (SIGSTOP): a slow registry. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startDockerRegistry(pki: TestPki, auth: RegistryAuth): Promise<RunningRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'docker-registry-'));
  const port = await freePort();
  await writeFile(join(dir, 'tls.crt'), pki.serving.cert);
  await writeFile(join(dir, 'tls.key'), pki.serving.key);
  let authYaml: string;
  if (auth.kind === 'htpasswd') {
    // Cost 4: the registry accepts any bcrypt cost; a low one keeps the tests fast.
    const lines = Object.entries(auth.users).map(([user, password]) => `${user}:${bcrypt.hashSync(password, 4)}`);
    await writeFile(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    authYaml = `  htpasswd:\n    realm: test-registry\n    path: ${join(dir, 'htpasswd')}\n`;
  } else {
    await writeFile(join(dir, 'token-root.crt'), auth.rootCertBundle);
    authYaml = `  token:\n    realm: ${auth.realm}\n    service: ${auth.service}\n    issuer: ${auth.issuer}\n    rootcertbundle: ${join(dir, 'token-root.crt')}\n`;
  }
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  tls:',
    `    certificate: ${join(dir, 'tls.crt')}`,
    `    key: ${join(dir, 'tls.key')}`,
    'auth:',
    authYaml,
  ].join('\n');
  await writeFile(join(dir, 'config.yml'), config);
  const child = spawn(DOCKER_REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, 10_000, () => child.exitCode !== null);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`docker-registry did not start: ${(error as Error).message}\n${stderr}`);
  }
  let stopped = false;
  return {
    port,
    address: `127.0.0.1:${port}`,
    process: child,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      if (!stopped) {
        stopped = true;
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, dead: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (dead()) throw new Error('the process exited');
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`port ${port} not open after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
