/**
 * The Dockerfile without a Docker engine: lint-clean (dockerfile-utils), Node 24 pinned by tag, non-root,
 * ports, and a runtime layout that matches what `npm run build` and `npm ci --omit=dev` produce.
 * The slow end-to-end check (npm ci --omit=dev into a copy, then start) is scripts/check-image-layout.sh.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { type Stage, isIgnored, parseCopy, parseDockerfile, parseDockerignore, stages, workdirAt } from './dockerfile.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const DOCKERIGNORE = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
const INSTRUCTIONS = parseDockerfile(DOCKERFILE);
const STAGES = stages(INSTRUCTIONS);
const RUNTIME = STAGES[STAGES.length - 1] as Stage;
const IGNORE = parseDockerignore(DOCKERIGNORE);
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const TSCONFIG_BUILD = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
  compilerOptions: { outDir: string; rootDir: string };
};

const run = promisify(execFile);

function stageNamed(name: string): Stage {
  const stage = STAGES.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage ${name}`);
  return stage;
}

function of(stage: Stage, keyword: string) {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

describe('Dockerfile lint', () => {
  it('dockerfile-utils lint (the CLI CI runs) reports no problem', async () => {
    const bin = join(ROOT, 'node_modules', 'dockerfile-utils', 'bin', 'dockerfile-utils');
    const { stdout, stderr } = await run(process.execPath, [bin, 'lint', join(ROOT, 'Dockerfile')]);
    expect(stdout.trim()).toBe('');
    expect(stderr.trim()).toBe('');
  });

  it('the dockerfile-utils validator finds nothing even with every optional check on', () => {
    const warn = 1 as const;
    const diagnostics = validate(DOCKERFILE, {
      deprecatedMaintainer: warn,
      directiveCasing: warn,
      emptyContinuationLine: warn,
      instructionCasing: warn,
      instructionCmdMultiple: warn,
      instructionEntrypointMultiple: warn,
      instructionHealthcheckMultiple: warn,
      instructionJSONInSingleQuotes: warn,
      instructionWorkdirRelative: warn,
    });
    expect(diagnostics.map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });
});

describe('Dockerfile stages', () => {
  it('is multi-stage: build (npm ci + tsc), deps (production only), runtime', () => {
    expect(STAGES.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    const buildRuns = of(stageNamed('build'), 'RUN').map((r) => r.args);
    expect(buildRuns.some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(buildRuns).toContain('npm run build');
    expect(PACKAGE.scripts.build).toMatch(/^tsc -p tsconfig\.build\.json$/);
    const depsRuns = of(stageNamed('deps'), 'RUN').map((r) => r.args);
    expect(depsRuns.some((r) => /^npm ci --omit=dev\b/.test(r))).toBe(true);
    // The runtime installs nothing and runs no package manager.
    for (const r of of(RUNTIME, 'RUN')) expect(r.args).not.toMatch(/\b(npm|yarn|pnpm|apt-get|apk)\s+(ci|install|add)\b/);
  });

  it('runs on Node 24 pinned by a full version tag, the same base in every stage', () => {
    for (const stage of STAGES) {
      expect(stage.image).toMatch(/^node:24\.\d+\.\d+(-[a-z0-9]+(-slim)?)?(@sha256:[a-f0-9]{64})?$/);
      expect(stage.image).not.toMatch(/latest/);
    }
    expect(new Set(STAGES.map((s) => s.image)).size).toBe(1);
  });

  it('runs as uid 65532, numeric, non-root', () => {
    const users = of(RUNTIME, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1]?.args as string;
    expect(user).toMatch(/^65532(:65532)?$/);
    // Nothing after USER switches back or runs as root.
    const index = RUNTIME.instructions.indexOf(users[users.length - 1] as (typeof users)[number]);
    expect(RUNTIME.instructions.slice(index + 1).map((i) => i.keyword)).not.toContain('RUN');
  });

  it('exposes 8443 and 9090', () => {
    const ports = of(RUNTIME, 'EXPOSE').flatMap((e) => e.args.split(/\s+/));
    expect(ports.sort()).toEqual(['8443', '9090']);
  });

  it('starts node dist/main.js, the file `npm start` runs', () => {
    const entrypoint = of(RUNTIME, 'ENTRYPOINT');
    expect(entrypoint).toHaveLength(1);
    const argv = JSON.parse(entrypoint[0]?.args as string) as string[];
    expect(argv).toEqual(['node', 'dist/main.js']);
    expect(PACKAGE.scripts.start).toBe('node dist/main.js');
    expect(of(RUNTIME, 'CMD')).toHaveLength(0);
    // dist/main.js is what tsc makes of src/main.ts.
    expect(TSCONFIG_BUILD.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(join(ROOT, 'src', 'main.ts'))).toBe(true);
  });

  it('works with a read-only root filesystem: production mode, CERT_DIR under /tmp, no VOLUME', () => {
    const env = of(RUNTIME, 'ENV').map((e) => e.args).join(' ');
    expect(env).toMatch(/NODE_ENV=production/);
    expect(env).toMatch(/CERT_DIR=\/tmp\//);
    expect(of(RUNTIME, 'VOLUME')).toHaveLength(0);
  });

  it('never ADDs, copies the whole context, or bakes secrets into ENV/ARG', () => {
    expect(INSTRUCTIONS.filter((i) => i.keyword === 'ADD')).toEqual([]);
    for (const instruction of INSTRUCTIONS.filter((i) => i.keyword === 'COPY')) {
      const copy = parseCopy(instruction);
      if (copy.from === undefined) expect(copy.sources).not.toContain('.');
      for (const source of copy.sources) expect(source).not.toMatch(/^certs|\.key$|\.pem$/);
    }
    for (const instruction of INSTRUCTIONS.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')) {
      expect(instruction.args).not.toMatch(/PASSWORD|TOKEN|SECRET|PRIVATE_KEY/i);
    }
  });
});

describe('image layout', () => {
  const contextCopies = STAGES.flatMap((stage) => of(stage, 'COPY').map((i) => ({ stage, copy: parseCopy(i) }))).filter(
    ({ copy }) => copy.from === undefined,
  );

  it('every COPY source from the build context exists and passes .dockerignore', () => {
    expect(contextCopies.length).toBeGreaterThan(0);
    for (const { copy } of contextCopies) {
      for (const source of copy.sources) {
        expect(existsSync(join(ROOT, source)), `${source} (Dockerfile line ${copy.line})`).toBe(true);
        expect(isIgnored(IGNORE, source), `${source} must not be ignored`).toBe(false);
        if (statSync(join(ROOT, source)).isDirectory()) {
          // A sample of files inside it survive as well (e.g. src/main.ts).
          const entries = readdirSync(join(ROOT, source)).filter((e) => e.endsWith('.ts'));
          for (const entry of entries) expect(isIgnored(IGNORE, `${source}/${entry}`), `${source}/${entry}`).toBe(false);
        }
      }
    }
  });

  it('the build stage has every file tsc -p tsconfig.build.json reads', () => {
    const copied = new Set(contextCopies.filter(({ stage }) => stage.name === 'build').flatMap(({ copy }) => copy.sources));
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', TSCONFIG_BUILD.compilerOptions.rootDir]) {
      expect(copied, file).toContain(file);
    }
  });

  it('the runtime gets package.json, package-lock.json, dist/ and production node_modules from where they are made', () => {
    const copies = of(RUNTIME, 'COPY').map(parseCopy);
    const runtimeDir = workdirAt(RUNTIME, of(RUNTIME, 'ENTRYPOINT')[0] as (typeof RUNTIME.instructions)[number]);
    const placed = new Map<string, { from: string | undefined; source: string }>();
    for (const copy of copies) {
      for (const source of copy.sources) {
        const destination = copy.destination.endsWith('/') || copy.sources.length > 1 ? posix.join(copy.destination, posix.basename(source)) : copy.destination;
        placed.set(posix.normalize(posix.join(runtimeDir, destination)), { from: copy.from, source });
      }
    }
    const expectFrom = (path: string, stageName: string | undefined, sourceDirOf: (stage: Stage) => string) => {
      const item = placed.get(posix.join(runtimeDir, path));
      expect(item, `${path} in the runtime image`).toBeDefined();
      expect(item?.from).toBe(stageName);
      if (stageName !== undefined) {
        const stage = stageNamed(stageName);
        expect(item?.source).toBe(posix.join(sourceDirOf(stage), path));
      }
    };
    const npmCiDir = (stage: Stage) => workdirAt(stage, of(stage, 'RUN').find((r) => r.args.startsWith('npm ci')) as (typeof stage.instructions)[number]);
    const buildDir = (stage: Stage) => workdirAt(stage, of(stage, 'RUN').find((r) => r.args === 'npm run build') as (typeof stage.instructions)[number]);
    expectFrom('node_modules', 'deps', npmCiDir);
    expectFrom(TSCONFIG_BUILD.compilerOptions.outDir, 'build', buildDir);
    expectFrom('package.json', undefined, () => '');
    expectFrom('package-lock.json', undefined, () => '');
    // Nothing else lands in the image (no src/, no tests, no certs).
    expect([...placed.keys()].map((p) => posix.relative(runtimeDir, p)).sort()).toEqual(['dist', 'node_modules', 'package-lock.json', 'package.json']);
  });

  it('.dockerignore keeps certs, keys, node_modules, dist, tests and local files out of the context', () => {
    for (const path of [
      'certs',
      'certs/tls.key',
      'certs/ca.crt',
      'node_modules',
      'node_modules/fastify/package.json',
      'dist/main.js',
      'test',
      'test/chart/render.test.ts',
      'server.key',
      'src/tls/dev.key',
      'src/tls/dev.pem',
      'src/.env',
      '.env',
      '.git/config',
      'coverage/index.html',
      'charts/registry-config-webhook/values.yaml',
      'Dockerfile',
    ]) {
      expect(isIgnored(IGNORE, path), path).toBe(true);
    }
  });

  it('the .dockerignore matcher follows Docker semantics', () => {
    const rules = parseDockerignore('node_modules\n*.log\n!keep.log\ncerts/\n**/*.key\n');
    expect(isIgnored(rules, 'node_modules/a/b.js')).toBe(true);
    expect(isIgnored(rules, 'a.log')).toBe(true);
    expect(isIgnored(rules, 'keep.log')).toBe(false);
    expect(isIgnored(rules, 'sub/a.log')).toBe(false);
    expect(isIgnored(rules, 'certs/tls.crt')).toBe(true);
    expect(isIgnored(rules, 'deep/er/x.key')).toBe(true);
    expect(isIgnored(rules, 'src/main.ts')).toBe(false);
  });
});
