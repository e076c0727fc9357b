/**
 * The package as a controller author gets it: `npm pack` (prepack builds dist/) from a copy of the
 * checkout, the tarball installed with `npm install --offline` into fresh projects, and
 * - a controller project whose npm `overrides` replace every one of the server's dependencies with
 *   an empty package: `registry-config-webhook/client` is type-checked with the repository's
 *   `typescript` and run against the whole server (get, watch, a change arriving, reconnect after a
 *   restart), so it cannot be using Fastify, pino or client-node;
 * - an operator project whose dependencies are the repository's installed copies: the `bin` runs.
 * Slow (one build, two installs, two server starts). Every temporary directory is removed.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { stablePort } from '../support/ports.js';
import { startTestServer } from '../support/server.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PROGRAM = fileURLToPath(new URL('./controller-program/main.ts', import.meta.url));
const PACKAGE = 'registry-config-webhook';

/** The children's environment without what `npm test` exports (npm_config_local_prefix would point nested npm runs at the repository). */
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));

async function npm(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, env: childEnv, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** A fresh project depending on the tarball, installed offline; `overrides` maps each of the package's dependencies. */
async function installProject(dir: string, tarball: string, overrides: Record<string, string>): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const manifest = { name: `fresh-${dir.split('/').pop()}`, private: true, type: 'module', dependencies: { [PACKAGE]: `file:${tarball}` }, overrides };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  await npm(dir, 'install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts');
  return join(dir, 'node_modules', PACKAGE);
}

/**
 * Every file reachable from `entry` through imports, exports, `import()` and reference directives,
 * as the TypeScript compiler's pre-processor reads them; throws on any bare specifier but `node:`.
 */
function importGraph(root: string, entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const types = info.typeReferenceDirectives.map((d) => d.fileName).filter((name) => name !== 'node');
    if (types.length > 0) throw new Error(`${file} references types ${types.join(', ')}`);
    for (const { fileName: specifier } of [...info.importedFiles, ...info.referencedFiles]) {
      if (specifier.startsWith('node:')) continue;
      if (!specifier.startsWith('.')) throw new Error(`${file.slice(root.length + 1)} imports ${specifier}`);
      const target = resolve(dirname(file), specifier);
      visit(file.endsWith('.d.ts') ? target.replace(/\.js$/, '.d.ts') : target);
    }
  };
  visit(join(root, entry));
  return [...seen].map((file) => file.slice(root.length + 1)).sort();
}

/** Lines of JSON the controller prints, and a way to wait for one. */
function lines(child: ChildProcessWithoutNullStreams) {
  const seen: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    seen.push(JSON.parse(line) as Record<string, unknown>);
    for (const waiter of [...waiters]) waiter();
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    seen,
    waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
      return new Promise((found, fail) => {
        const check = () => {
          const line = seen.find(match);
          if (!line) return;
          waiters.delete(check);
          clearTimeout(timer);
          found(line);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`no such line within ${timeoutMs} ms; got ${JSON.stringify(seen)}; stderr: ${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

function secretManifest(registry: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/dockerconfigjson',
    metadata: { name: 'serverless-registry-config', namespace: 'team-a', labels: { 'serverless.kyma-project.io/remote-registry': 'config' } },
    stringData: { username: 'builder', password: 'not-a-real-password', serverAddress: registry, registryAddress: `${registry}/functions` },
  });
}

describe('the packed package', { timeout: 120_000 }, () => {
  let work: string;
  let tarball: string;
  let files: string[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'rcw-package-'));
    // A copy of the checkout (tracked and new files, as git sees them), so packing leaves this dist/ alone.
    const source = join(work, 'source');
    const listed = (await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 })).stdout;
    for (const file of listed.split('\0').filter((f) => f !== '' && existsSync(join(REPO, f)))) {
      cpSync(join(REPO, file), join(source, file));
    }
    symlinkSync(join(REPO, 'node_modules'), join(source, 'node_modules'));
    await npm(source, 'pack', '--pack-destination', work, '--silent');
    const name = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!name) throw new Error('npm pack made no tarball');
    tarball = join(work, name);
    files = (await run('tar', ['-tzf', tarball])).stdout.split('\n').filter((f) => f !== '');
  }, 120_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the built dist/ (prepack built it), its type declarations and the OpenAPI document, and no sources or tests', () => {
    for (const file of ['package.json', 'dist/client.js', 'dist/client.d.ts', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'docs/openapi.json']) {
      expect(files).toContain(`package/${file}`);
    }
    expect(files.filter((f) => /^package\/(src|test|bench|charts)\//.test(f) || f.endsWith('.map'))).toEqual([]);
  });

  describe('in a controller project without any of the server dependencies', () => {
    let project: string;
    let installed: string;
    let server: RunningServer | undefined;
    let secrets: string;

    beforeAll(async () => {
      project = join(work, 'controller');
      // An empty package in place of each server dependency: importing one fails.
      const absent = join(project, 'absent');
      mkdirSync(absent, { recursive: true });
      writeFileSync(join(absent, 'package.json'), JSON.stringify({ name: 'absent', version: '0.0.0' }));
      const packed = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      installed = await installProject(project, tarball, Object.fromEntries(Object.keys(packed.dependencies).map((dep) => [dep, 'file:./absent'])));
      secrets = join(work, 'secrets');
      mkdirSync(secrets);
      writeFileSync(join(secrets, 'team-a.json'), secretManifest('one.registry.example.org'));
    }, 120_000);

    afterAll(async () => {
      await server?.shutdown('test end');
    });

    it('the client and its type declarations import nothing but Node built-ins', () => {
      expect(importGraph(installed, 'dist/client.js')).toEqual(['dist/client.js', 'dist/resolver/api.js', 'dist/resolver/client.js']);
      expect(importGraph(installed, 'dist/client.d.ts')).toEqual(['dist/client.d.ts', 'dist/registry/registry-config.d.ts', 'dist/resolver/api.d.ts', 'dist/resolver/client.d.ts']);
      // The server's own entry does need its dependencies: the stand-ins are really empty.
      expect(() => importGraph(installed, 'dist/main.js')).toThrow(/imports /);
    });

    it('type-checks a controller against the installed types, and it gets, watches, sees a change, and reconnects after a restart', async () => {
      cpSync(PROGRAM, join(project, 'main.ts'));
      // @types/node is the controller's own dev dependency; take the repository's copy.
      mkdirSync(join(project, 'node_modules', '@types'), { recursive: true });
      symlinkSync(join(REPO, 'node_modules', '@types', 'node'), join(project, 'node_modules', '@types', 'node'));
      const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], skipLibCheck: false, outDir: 'out' };
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['main.ts'] }));
      const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
      await run(process.execPath, [tsc, '-p', project], { cwd: project }).catch((error: { stdout?: string }) => {
        throw new Error(`the controller does not type-check:\n${error.stdout ?? String(error)}`);
      });

      const env = { RESOLVER_SOURCE: 'directory', SECRETS_DIR: secrets, SHUTDOWN_DELAY: '0' };
      // Restarted below on the same port, so not one from the ephemeral range.
      const port = await stablePort();
      const started = await startTestServer({ ...env, PORT: String(port) });
      server = started.server;
      writeFileSync(join(project, 'ca.crt'), started.ca);
      const child = spawn(process.execPath, [join(project, 'out', 'main.js'), `https://127.0.0.1:${port}`, join(project, 'ca.crt'), 'team-a'], { cwd: project, env: childEnv });
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      const output = lines(child);
      try {
        expect(await output.waitFor((l) => l.kind === 'get')).toEqual({ kind: 'get', registryAddress: 'one.registry.example.org/functions', source: 'namespace' });
        expect(await output.waitFor((l) => l.kind === 'error')).toEqual({ kind: 'error', status: 400, code: 'INVALID_NAMESPACE' });
        expect(await output.waitFor((l) => l.kind === 'watch')).toEqual({ kind: 'watch', type: 'ADDED', registryAddress: 'one.registry.example.org/functions' });

        writeFileSync(join(secrets, 'team-a.json'), secretManifest('two.registry.example.org'));
        expect(await output.waitFor((l) => l.kind === 'watch' && l.type === 'MODIFIED')).toMatchObject({ registryAddress: 'two.registry.example.org/functions' });

        // The server goes away; what changed meanwhile arrives once it is back on the same port.
        await server.shutdown('restart');
        server = undefined;
        await output.waitFor((l) => l.kind === 'watch-error');
        writeFileSync(join(secrets, 'team-a.json'), secretManifest('three.registry.example.org'));
        server = (await startTestServer({ ...env, PORT: String(port) })).server;
        expect(await output.waitFor((l) => l.kind === 'watch' && l.registryAddress === 'three.registry.example.org/functions')).toEqual({
          kind: 'watch',
          type: 'ADDED',
          registryAddress: 'three.registry.example.org/functions',
        });
        expect(output.seen.filter((l) => l.kind === 'watch').map((l) => l.type)).toEqual(['ADDED', 'MODIFIED', 'ADDED']);
        expect(output.seen.filter((l) => l.kind === 'never')).toEqual([{ kind: 'never' }]);

        // End of input: the controller closes its client, and nothing keeps the process alive.
        child.stdin.end();
        expect(await exited).toBe(0);
      } finally {
        child.kill();
      }
    });
  });

  describe('in an operator project with the declared dependencies', () => {
    it('the bin runs from node_modules/.bin', async () => {
      const project = join(work, 'operator');
      const packed = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      // The repository's installed copies stand in for the registry: no network, and a missing declaration fails.
      await installProject(project, tarball, Object.fromEntries(Object.keys(packed.dependencies).map((dep) => [dep, `file:${join(REPO, 'node_modules', dep)}`])));
      const bin = join(project, 'node_modules', '.bin', PACKAGE);
      const help = await run(bin, ['review', '--help'], { cwd: project, env: childEnv });
      expect(help.stdout).toMatch(/^Usage: registry-config-webhook review FILE/);
      const review = readFileSync(join(REPO, 'test', 'fixtures', 'admission-reviews', 'create-stringdata.v1.json'));
      const child = spawn(bin, ['review', '-', '--output', 'json'], { cwd: project, env: childEnv });
      child.stdin.end(review);
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
      // Exit code 0: the webhook would allow it (and patch in .dockerconfigjson).
      expect(code, stdout).toBe(0);
      expect(stdout).toContain('.dockerconfigjson');
    });
  });
});
