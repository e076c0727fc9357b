/**
 * `registry-config-webhook` as a user runs it: the package built with tsc (as `npm run build`
 * does), then `node dist/cli/main.js ...` (the `bin`) and `node dist/main.js` (`npm start`, the
 * image's entrypoint) in their own processes. Exit codes, help texts, --version, errors.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config/config.js';
import { type BuiltPackage, buildPackage, runNode, startNode } from '../support/built-cli.js';
import { eventually } from '../support/eventually.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; scripts: Record<string, string> };
const BIN = PACKAGE.bin['registry-config-webhook'] as string;

let pkg: BuiltPackage;
const cli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) => runNode(pkg, BIN, args, options);

beforeAll(async () => {
  pkg = await buildPackage();
}, 240_000);

afterAll(() => pkg?.remove());

const hint = (command?: string) => `Run 'registry-config-webhook${command ? ` ${command}` : ''} --help' for usage.\n`;

describe('registry-config-webhook (the bin)', () => {
  it('is the file package.json names, and runs `serve` for npm start', () => {
    expect(BIN).toBe('./dist/cli/main.js');
    expect(PACKAGE.scripts.start).toBe('node dist/main.js');
    expect(PACKAGE.scripts.certs).toBe(`npm run build --silent && node ${BIN.replace(/^\.\//, '')} certs`);
    expect(existsSync(join(pkg.dir, BIN))).toBe(true);
  });

  it.each([['--version'], ['version']])('%s prints the version of package.json and exits 0', async (arg) => {
    expect(await cli([arg])).toEqual({ code: 0, stdout: `registry-config-webhook ${PACKAGE.version}\n`, stderr: '' });
  });

  // Without a command it starts nothing (no server, as before): it prints the help and exits.
  it.each([[[]], [['--help']], [['-h']], [['help']]])('%j lists every command and exits 0', async (args) => {
    const { code, stdout, stderr } = await cli(args);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain('Usage: registry-config-webhook <command> [flags]');
    for (const command of ['serve', 'review', 'certs', 'version', 'help']) expect(stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    expect(stdout).toContain('--version');
  });

  it('refuses an unknown command with one line and a hint, exit 2', async () => {
    expect(await cli(['serv'])).toEqual({ code: 2, stdout: '', stderr: `registry-config-webhook: unknown command "serv"\n${hint()}` });
    expect(await cli(['--verbose'])).toEqual({ code: 2, stdout: '', stderr: `registry-config-webhook: unknown flag --verbose\n${hint()}` });
    expect(await cli(['help', 'nope'])).toEqual({ code: 2, stdout: '', stderr: `registry-config-webhook help: unknown command "nope"\n${hint('help')}` });
  });
});

// Written out here, not taken from the code: what each command's --help must list.
const COMMAND_FLAGS: Record<string, string[]> = {
  review: ['-o, --output text|json', '--show-secrets', '-h, --help'],
  certs: ['--out DIR', '--dns NAME', '--ip ADDRESS', '--days N', '--force', '-h, --help'],
  version: ['-h, --help'],
  // Every option of the configuration table, with its environment variable.
  serve: [...Object.values(OPTIONS).map((spec) => `${spec.flag} ${spec.env}`), '-h, --help'],
};

describe.each(Object.keys(COMMAND_FLAGS))('registry-config-webhook %s', (command) => {
  it('--help and `help <command>` list every flag it takes, exit 0', async () => {
    const viaFlag = await cli([command, '--help']);
    expect(viaFlag.code).toBe(0);
    expect(viaFlag.stderr).toBe('');
    expect(viaFlag.stdout).toMatch(new RegExp(`^Usage: registry-config-webhook ${command}\\b`));
    for (const flag of COMMAND_FLAGS[command] as string[]) expect(viaFlag.stdout).toContain(`  ${flag}`);
    expect(await cli(['help', command])).toEqual(viaFlag);
    expect((await cli([command, '-h'])).stdout).toBe(viaFlag.stdout);
  });

  it('refuses an unknown flag with one line and a hint, exit 2', async () => {
    expect(await cli([command, '--bogus'])).toEqual({ code: 2, stdout: '', stderr: `registry-config-webhook ${command}: unknown flag --bogus\n${hint(command)}` });
  });
});

describe('registry-config-webhook review', () => {
  const secret = (password?: string) =>
    [
      'apiVersion: v1',
      'kind: Secret',
      'metadata: {name: serverless-registry-config, namespace: team-a, labels: {serverless.kyma-project.io/remote-registry: config}}',
      'type: kubernetes.io/dockerconfigjson',
      'stringData:',
      '  username: admin',
      ...(password ? [`  password: ${password}`] : []),
      '  serverAddress: registry.example.com:5000',
      '  registryAddress: registry.example.com:5000/kyma',
    ].join('\n');

  it('reads standard input with -, exit 0 when allowed and 1 when denied; -o json and --output=json', async () => {
    const allowed = await cli(['review', '-'], { input: secret('s3cr3t-pass') });
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('Decision: ALLOWED');
    expect(allowed.stdout).not.toContain('s3cr3t-pass');
    const denied = await cli(['review', '-o', 'json', '-'], { input: secret() });
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout)).toMatchObject({ decision: 'denied' });
    expect((await cli(['review', '--output=json', '-'], { input: secret('s3cr3t-pass') })).stdout).toMatch(/"decision": "allowed"/);
  });

  it('exit 2 for a file it cannot read, a missing FILE, or a bad --output', async () => {
    expect(await cli(['review', '/nonexistent/secret.yaml'])).toEqual({ code: 2, stdout: '', stderr: 'review: cannot read /nonexistent/secret.yaml: ENOENT\n' });
    expect(await cli(['review'])).toEqual({ code: 2, stdout: '', stderr: `registry-config-webhook review: give a FILE, or - for standard input\n${hint('review')}` });
    expect(await cli(['review', '-o', 'yaml', '-'])).toEqual({ code: 2, stdout: '', stderr: `registry-config-webhook review: --output must be text or json, got "yaml"\n${hint('review')}` });
    expect((await cli(['review', '--output'])).stderr).toBe(`registry-config-webhook review: --output needs a value\n${hint('review')}`);
  });
});

describe('registry-config-webhook certs', () => {
  it('writes the four files and prints the caBundle; refuses to overwrite without --force (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rcw-cli-certs-'));
    try {
      const out = join(dir, 'out');
      const first = await cli(['certs', '--out', out, '--dns', 'webhook.local', '--ip', '127.0.0.1', '--days', '30']);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      for (const file of ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']) expect(existsSync(join(out, file))).toBe(true);
      expect(first.stdout).toContain(`caBundle: ${readFileSync(join(out, 'ca.crt')).toString('base64')}\n`);
      const again = await cli(['certs', '--out', out, '--dns', 'webhook.local']);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/^certs: .*ca\.crt exists; use --force to replace it\n$/);
      expect((await cli(['certs', '--out', out, '--dns', 'webhook.local', '--force'])).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('registry-config-webhook serve', () => {
  it('refuses a bad value from a flag or from the environment, exit 2', async () => {
    expect(await cli(['serve', '--port', 'abc'])).toEqual({
      code: 2,
      stdout: '',
      stderr: `registry-config-webhook serve: invalid PORT (--port) "abc": must be an integer between 0 and 65535\n${hint('serve')}`,
    });
    expect((await cli(['serve'], { env: { LOG_LEVEL: 'loud' } })).stderr).toMatch(/^registry-config-webhook serve: invalid LOG_LEVEL \(--log-level\) "loud"/);
    expect((await cli(['serve', 'now'])).stderr).toBe(`registry-config-webhook serve: unexpected argument "now"\n${hint('serve')}`);
  });

  it.each([
    ['registry-config-webhook serve', BIN, ['serve']],
    ['npm start (node dist/main.js)', 'dist/main.js', []],
  ])('%s starts the server with its flags, serves /healthz, and exits 0 on SIGTERM', async (_name, script, command) => {
    const certDir = mkdtempSync(join(tmpdir(), 'rcw-cli-serve-'));
    const child = startNode(pkg, script, [...command, '--host', '127.0.0.1', '--port', '0', '--probe-port', '0', '--cert-dir', certDir, '--shutdown-delay', '0s'], {
      RESOLVER_SOURCE: 'off',
      PROPAGATION: 'off',
      AUTH: 'off',
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const serving = await eventually(() => {
        const line = output.split('\n').find((l) => l.includes('"registry-config-webhook serving"'));
        if (!line) throw new Error(`not serving yet: ${output}`);
        return JSON.parse(line) as { probePort: number; webhookPort: number };
      }, 30_000);
      expect(serving.webhookPort).toBeGreaterThan(0);
      const health = await fetch(`http://127.0.0.1:${serving.probePort}/healthz`);
      expect(health.status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(certDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('docs/cli.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');

  it.each(['review', 'certs', 'version'])('documents every flag `%s --help` lists', async (command) => {
    const help = (await cli([command, '--help'])).stdout;
    const flags = [...help.matchAll(/^ {2}(?:-\w, )? *(--[\w-]+)/gm)].map((m) => m[1] as string);
    expect(flags.length).toBeGreaterThan(0);
    for (const flag of flags) expect(doc, `${command} ${flag}`).toContain(`\`${flag}`);
  });

  it('every example in an sh block runs: a valid command line, exit 0 (or 1: a denial)', async () => {
    const examples = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => (m[1] as string).split('\n')).filter((line) => line.startsWith('npx registry-config-webhook '));
    expect(examples.length).toBeGreaterThanOrEqual(8);
    const cwd = mkdtempSync(join(tmpdir(), 'rcw-cli-docs-'));
    try {
      symlinkSync(join(ROOT, 'examples'), join(cwd, 'examples'));
      mkdirSync(join(cwd, 'test'));
      symlinkSync(join(ROOT, 'test', 'fixtures'), join(cwd, 'test', 'fixtures'));
      const bin = `"${process.execPath}" "${join(pkg.dir, BIN)}"`;
      for (const example of examples) {
        const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
          execFile('sh', ['-c', example.replace(/^npx registry-config-webhook/, bin)], { cwd, env: { PATH: process.env.PATH ?? '', KUBECONFIG: '/nonexistent' } }, (error, _stdout, stderr) =>
            resolve({ code: error ? Number(error.code) : 0, stderr }),
          );
        });
        expect(result.stderr, example).not.toContain('for usage.');
        expect([0, 1], `${example}: exit ${result.code}, ${result.stderr}`).toContain(result.code);
      }
      expect(existsSync(join(cwd, 'my-certs', 'tls.crt'))).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});
