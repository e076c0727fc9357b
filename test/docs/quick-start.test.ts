/**
 * The README's quick start, run as a newcomer runs it: `npm start` for real (build, dev certificates on
 * first start, the bundled example Secrets), then the README's own curl commands against it, their
 * output compared with what the README shows. Only what must differ on a shared test machine is
 * changed: the server listens on 127.0.0.1 with port 0 (the commands get the real ports in place of
 * the default ones), writes its certificates into a temporary directory that the commands see as
 * `certs/`, and finds no kubeconfig, as on the fresh machine the README speaks of.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS, parseConfig } from '../../src/config/config.js';
import { readAdmissionFixture } from '../support/fixtures.js';
import { ROOT, type TestedBlock, testedBlocks } from './markdown.js';

const run = promisify(execFile);
const README = 'README.md';
const blocks = testedBlocks(README).filter((b) => b.name.startsWith('quick-start/'));
const FIXTURE = 'create-dockerconfigjson-data.v1.json';

function block(name: string): TestedBlock {
  const found = blocks.filter((b) => b.name === `quick-start/${name}`);
  if (found.length !== 1) throw new Error(`${README}: expected one block marked "tested: quick-start/${name}", found ${found.length}`);
  return found[0] as TestedBlock;
}

/** A block's command without its trailing comment. */
const command = (b: TestedBlock): string => b.code.replace(/\s+#.*$/gm, '').trim();

const hasCurl = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasCurl) console.log('skipping the README quick start: it needs curl (apt-get install -y curl)');

describe('README quick start', () => {
  it('has the blocks this test runs, and no other', () => {
    expect(blocks.map((b) => b.name)).toEqual(
      ['serve', 'test', 'review', 'review-output', 'patch', 'patch-output', 'resolver', 'ready', 'ready-output'].map((n) => `quick-start/${n}`),
    );
  });

  it('installs with npm ci and tests with npm test, which CI runs on a clean clone in that order', () => {
    expect(command(block('serve'))).toBe('npm ci && npm start');
    expect(command(block('test'))).toBe('npm test');
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    const install = ci.search(/^npm ci\b/m);
    const test = ci.search(/^npm test$/m);
    expect(install).toBeGreaterThanOrEqual(0);
    expect(test).toBeGreaterThan(install);
  });
});

describe.skipIf(!hasCurl)('README quick start against `npm start`', () => {
  const defaults = parseConfig([], {}, { hostname: 'readme', serviceAccountNamespace: undefined });
  const dir = mkdtempSync(join(tmpdir(), 'rcw-quick-start-'));
  let server: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let ports = { webhook: 0, probe: 0 };
  let output = '';

  beforeAll(async () => {
    // The commands run from `dir`, which holds the server's certificates as `certs/` and the
    // repository's test/ (the recorded review), as a checkout would.
    symlinkSync(join(ROOT, 'test'), join(dir, 'test'));
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const spec of Object.values(OPTIONS)) delete env[spec.env];
    delete env.KUBERNETES_SERVICE_HOST;
    Object.assign(env, {
      PORT: '0',
      PROBE_PORT: '0',
      HOST: '127.0.0.1',
      CERT_DIR: join(dir, 'certs'),
      KUBECONFIG: join(dir, 'no-kubeconfig'),
      SHUTDOWN_DELAY: '0',
    });
    // The README's command, minus `npm ci` (done before any test runs).
    const [program = '', ...args] = command(block('serve')).replace(/^npm ci && /, '').split(' ');
    const child = spawn(program, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    exited = new Promise((resolve) => child.on('exit', () => resolve()));
    ports = await new Promise((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        for (const line of output.split('\n')) {
          if (!line.startsWith('{')) continue; // npm's own lines
          const entry = JSON.parse(line) as { msg?: string; webhookPort?: number; probePort?: number };
          if (entry.msg === 'registry-config-webhook serving') resolve({ webhook: Number(entry.webhookPort), probe: Number(entry.probePort) });
        }
      });
      child.on('exit', (code) => reject(new Error(`npm start exited (${code}) before serving:\n${output}`)));
    });
  }, 240_000);

  afterAll(async () => {
    if (server?.pid !== undefined && server.exitCode === null) {
      process.kill(-server.pid, 'SIGTERM'); // npm, its shell and the server: the group we started
      const timer = setTimeout(() => server?.pid !== undefined && process.kill(-server.pid, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  /** Runs a README block with bash from `dir`, the default ports replaced by the real ones. */
  async function runBlock(name: string): Promise<string> {
    const b = block(name);
    const script = b.code
      .replaceAll(`localhost:${defaults.port}`, `localhost:${ports.webhook}`)
      .replaceAll(`localhost:${defaults.probePort}`, `localhost:${ports.probe}`);
    expect(script, `${README}:${b.line} talks to the server on its default ports`).not.toBe(b.code);
    // Loopback only: no proxy from the environment may see these requests.
    const env = { ...process.env, NO_PROXY: '*', no_proxy: '*' };
    const { stdout } = await run('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd: dir, env, timeout: 30_000 });
    return stdout;
  }

  const shown = (name: string): string => block(name).code.trim();

  const fixture = readAdmissionFixture(FIXTURE);
  const data = fixture.request.object?.data ?? {};
  const plain = (key: string): string => Buffer.from(String(data[key]), 'base64').toString('utf8');
  // The README's promise: what `kubectl create secret docker-registry` writes for these credentials.
  const expectedDockerConfig = JSON.stringify({
    auths: {
      [plain('serverAddress')]: {
        username: plain('username'),
        password: plain('password'),
        auth: Buffer.from(`${plain('username')}:${plain('password')}`).toString('base64'),
      },
    },
  });

  it('the first review: the recorded Secret is allowed with a patch that adds .dockerconfigjson, as the README shows', async () => {
    const stdout = await runBlock('review');
    const answer = JSON.parse(stdout) as { response: { uid: string; allowed: boolean; patchType?: string; patch?: string } };
    expect(answer.response.uid).toBe(fixture.request.uid);
    expect(answer.response.allowed).toBe(true);
    expect(answer.response.patchType).toBe('JSONPatch');
    const patch = JSON.parse(Buffer.from(answer.response.patch ?? '', 'base64').toString('utf8')) as { op: string; path: string; value: string }[];
    expect(patch.map(({ op, path }) => ({ op, path }))).toEqual([{ op: 'add', path: '/data/.dockerconfigjson' }]);
    expect(Buffer.from(patch[0]?.value ?? '', 'base64').toString('utf8')).toBe(expectedDockerConfig);
    expect(stdout.trim()).toBe(shown('review-output'));
  });

  it('the decoded patch is the .dockerconfigjson kubectl would write, as the README shows', async () => {
    const stdout = await runBlock('patch');
    expect(stdout.trim()).toBe(`add /data/.dockerconfigjson ${expectedDockerConfig}`);
    expect(stdout.trim()).toBe(shown('patch-output'));
  });

  it('the resolver answers for team-b from the bundled examples: the cluster-wide Secret', async () => {
    const answer = JSON.parse(await runBlock('resolver')) as { namespace: string; source: string; secret: { namespace: string; name: string } };
    expect(answer).toMatchObject({ namespace: 'team-b', source: 'cluster', secret: { namespace: 'kyma-system', name: 'serverless-registry-config' } });
  });

  it('the server is ready, as the README shows', async () => {
    const stdout = await runBlock('ready');
    expect((JSON.parse(stdout) as { status: string }).status).toBe('ok');
    expect(stdout.trim()).toBe(shown('ready-output'));
  });
});
