import { mkdir, mkdtemp, rename, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Resolution } from '../../src/registry/precedence.js';
import { createDirectorySource, type DirectorySourceOptions } from '../../src/resolver/directory-source.js';
import { parseSecretManifests } from '../../src/resolver/manifest-files.js';
import { RegistryIndex } from '../../src/resolver/registry-index.js';
import type { RegistrySecretSource } from '../../src/resolver/source.js';
import { captureLogs } from '../support/log-capture.js';
import { CANARY_PASSWORD, SYSTEM } from './secrets.js';

const EXAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'secrets');

function namespaceManifest(namespace: string, registry: string, extraLabels = ''): string {
  return `apiVersion: v1
kind: Secret
metadata:
  name: serverless-registry-config
  namespace: ${namespace}
  labels:
    serverless.kyma-project.io/remote-registry: config${extraLabels}
stringData:
  username: user
  password: ${CANARY_PASSWORD}
  serverAddress: ${registry}
  registryAddress: ${registry}/kyma
`;
}

const DEFAULT_JSON = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'serverless-registry-config-default', namespace: SYSTEM },
  data: { registryAddress: Buffer.from('localhost:32137').toString('base64'), serverAddress: Buffer.from('internal:5000').toString('base64') },
});

async function waitFor<T>(read: () => T, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const summary = (r: Resolution) => (r.found ? `${r.config.source}:${r.config.registryAddress}` : 'none');

let dir: string;
let sources: RegistrySecretSource[] = [];

async function started(options: Partial<DirectorySourceOptions> = {}) {
  const logs = captureLogs('debug');
  const index = new RegistryIndex({ systemNamespace: SYSTEM });
  const source = createDirectorySource({ dir, log: logs.log, debounceMs: 20, pollIntervalMs: 200, ...options });
  sources.push(source);
  await source.start(index);
  return { index, source, logs };
}

describe('directory source', () => {
  afterEach(async () => {
    for (const source of sources) await source.stop();
    sources = [];
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('add, edit and delete a file: the index follows', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rcw-dir-'));
    await writeFile(join(dir, 'default.json'), DEFAULT_JSON);
    const { index, source, logs } = await started();
    expect(source.readiness()).toEqual({ ok: true });
    expect(summary(index.resolve('a'))).toBe('default:localhost:32137');

    const heard: Resolution[] = [];
    index.subscribe('a', (r) => heard.push(r));

    await writeFile(join(dir, 'a.yaml'), namespaceManifest('a', 'one.example.com'));
    await waitFor(() => summary(index.resolve('a')), (s) => s === 'namespace:one.example.com/kyma');
    const firstRevision = (index.resolve('a') as { config: { revision: string } }).config.revision;

    await writeFile(join(dir, 'a.yaml'), namespaceManifest('a', 'two.example.com'));
    await waitFor(() => summary(index.resolve('a')), (s) => s === 'namespace:two.example.com/kyma');
    const secondRevision = (index.resolve('a') as { config: { revision: string } }).config.revision;
    expect(secondRevision).not.toBe(firstRevision);
    // Same synthetic uid (same file, same Secret); a new resourceVersion.
    expect(secondRevision.split(':')[0]).toBe(firstRevision.split(':')[0]);

    await unlink(join(dir, 'a.yaml'));
    await waitFor(() => summary(index.resolve('a')), (s) => s === 'default:localhost:32137');
    expect(heard.map(summary)).toEqual(['namespace:one.example.com/kyma', 'namespace:two.example.com/kyma', 'default:localhost:32137']);
    expect(logs.text()).not.toContain(CANARY_PASSWORD);
  });

  it('a bad file is skipped with one warning naming it, never quoting it; the others still count', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rcw-dir-'));
    await writeFile(join(dir, 'default.json'), DEFAULT_JSON);
    await writeFile(join(dir, 'broken.yaml'), `kind: Secret\nmetadata: {name: x\n  password: ${CANARY_PASSWORD}: [\n`);
    await writeFile(join(dir, 'broken.json'), `{"kind": "Secret", "password": "${CANARY_PASSWORD}",}`);
    await writeFile(join(dir, 'unquoted.yaml'), `kind: Secret\nmetadata: {name: serverless-registry-config-default, namespace: ${SYSTEM}}\nstringData: {isInternal: true}\n`);
    const { index, logs } = await started({ pollIntervalMs: 30 });
    expect(summary(index.resolve('a'))).toBe('default:localhost:32137');
    await new Promise((r) => setTimeout(r, 150)); // several polls: still one warning per file
    const warnings = logs.records().filter((r) => r.level === 'warn');
    expect(warnings.map((w) => w.file).sort()).toEqual([join(dir, 'broken.json'), join(dir, 'broken.yaml'), join(dir, 'unquoted.yaml')]);
    expect(warnings.find((w) => w.file === join(dir, 'unquoted.yaml'))?.problem).toBe(`Secret ${SYSTEM}/serverless-registry-config-default: stringData.isInternal is not a string (quote it)`);
    expect(logs.text()).not.toContain(CANARY_PASSWORD);
  });

  it('a file that turns bad contributes nothing until fixed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rcw-dir-'));
    await writeFile(join(dir, 'a.yaml'), namespaceManifest('a', 'one.example.com'));
    const { index } = await started();
    expect(summary(index.resolve('a'))).toBe('namespace:one.example.com/kyma');
    await writeFile(join(dir, 'a.yaml'), 'kind: Secret\n  bad: [\n');
    await waitFor(() => summary(index.resolve('a')), (s) => s === 'none');
    await writeFile(join(dir, 'a.yaml'), namespaceManifest('a', 'one.example.com'));
    await waitFor(() => summary(index.resolve('a')), (s) => s === 'namespace:one.example.com/kyma');
  });

  it('polls when file events are off; an atomic rename is seen; stop() ends all activity', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rcw-dir-'));
    const { index, source } = await started({ fileEvents: false, pollIntervalMs: 30 });
    expect(summary(index.resolve('a'))).toBe('none');
    await writeFile(join(dir, '.a.yaml.tmp'), namespaceManifest('a', 'one.example.com'));
    await rename(join(dir, '.a.yaml.tmp'), join(dir, 'a.yaml'));
    await waitFor(() => summary(index.resolve('a')), (s) => s === 'namespace:one.example.com/kyma');
    await source.stop();
    await writeFile(join(dir, 'b.yaml'), namespaceManifest('b', 'b.example.com'));
    await new Promise((r) => setTimeout(r, 120));
    expect(summary(index.resolve('b'))).toBe('none');
  });

  it('an edit that keeps the mtime still changes the revision; an unchanged Secret keeps it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rcw-dir-'));
    const file = join(dir, 'two.yaml');
    const when = new Date('2030-01-01T00:00:00Z');
    await writeFile(file, `${namespaceManifest('a', 'one.example.com')}---\n${namespaceManifest('b', 'b.example.com')}`);
    await utimes(file, when, when);
    const { index } = await started({ fileEvents: false, pollIntervalMs: 20 });
    const revision = (ns: string) => {
      const r = index.resolve(ns);
      return r.found ? r.config.revision : 'none';
    };
    const [a1, b1] = [revision('a'), revision('b')];
    await writeFile(file, `${namespaceManifest('a', 'other.example.com')}---\n${namespaceManifest('b', 'b.example.com')}`);
    await utimes(file, when, when);
    await waitFor(() => summary(index.resolve('a')), (s) => s === 'namespace:other.example.com/kyma');
    expect(revision('a')).not.toBe(a1);
    expect(revision('b')).toBe(b1);
  });

  it('a missing directory fails start with a clear error', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rcw-dir-'));
    const logs = captureLogs();
    const source = createDirectorySource({ dir: join(dir, 'nope'), log: logs.log });
    await expect(source.start(new RegistryIndex({ systemNamespace: SYSTEM }))).rejects.toThrow(/cannot read SECRETS_DIR .*nope: ENOENT/);
    expect(source.readiness().ok).toBe(false);
    await source.stop();
  });

  it('a directory that disappears makes the source unready and keeps the last Secrets', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rcw-dir-'));
    const sub = join(dir, 'secrets');
    await mkdir(sub);
    await writeFile(join(sub, 'a.yaml'), namespaceManifest('a', 'one.example.com'));
    const logs = captureLogs();
    const index = new RegistryIndex({ systemNamespace: SYSTEM });
    const source = createDirectorySource({ dir: sub, log: logs.log, pollIntervalMs: 30, fileEvents: false });
    sources.push(source);
    await source.start(index);
    await rm(sub, { recursive: true });
    await waitFor(() => source.readiness().ok, (ok) => !ok);
    expect(source.readiness().reason).toMatch(/ENOENT/);
    expect(summary(index.resolve('a'))).toBe('namespace:one.example.com/kyma');
  });

  it('the shipped examples resolve as their README says', async () => {
    const logs = captureLogs();
    const index = new RegistryIndex({ systemNamespace: SYSTEM });
    const source = createDirectorySource({ dir: EXAMPLES_DIR, log: logs.log, fileEvents: false, pollIntervalMs: 60_000 });
    sources.push(source);
    await source.start(index);
    expect(logs.records().filter((r) => r.level === 'warn')).toEqual([]);
    const answer = (ns: string) => {
      const r = index.resolve(ns);
      return r.found ? `${r.config.source} ${r.config.secret.namespace}/${r.config.secret.name}` : 'none';
    };
    expect(answer('team-a')).toBe('namespace team-a/serverless-registry-config');
    expect(answer('team-b')).toBe(`cluster ${SYSTEM}/serverless-registry-config`);
    expect(answer('anything')).toBe(`cluster ${SYSTEM}/serverless-registry-config`);
    expect([...index.entries()].find((e) => e.role === 'default')?.valid).toBe(true);
  });
});

describe('parseSecretManifests', () => {
  it('reads multi-document YAML and Lists, folds stringData over data, defaults the namespace, ignores other kinds', () => {
    const text = `apiVersion: v1
kind: ConfigMap
metadata: {name: ignored}
---
apiVersion: v1
kind: Secret
metadata: {name: s1}
data: {a: YQ==, b: Yg==}
stringData: {b: B, c: ü}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Secret, metadata: {name: s2, namespace: n2}}
---
`;
    const result = parseSecretManifests('x.yaml', text);
    expect(result).toEqual({
      ok: true,
      secrets: [
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1', namespace: 'default' }, data: { a: 'YQ==', b: 'Qg==', c: 'w7w=' } },
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's2', namespace: 'n2' }, data: {} },
      ],
    });
  });

  it('names the problem, never the content', () => {
    expect(parseSecretManifests('x.yaml', `kind: Secret\nmetadata: {namespace: a}\ndata: {password: ${CANARY_PASSWORD}}`)).toEqual({ ok: false, reason: 'a Secret without metadata.name' });
    expect(parseSecretManifests('x.yaml', 'kind: Secret\napiVersion: v2\nmetadata: {name: a}')).toEqual({ ok: false, reason: 'a Secret must have apiVersion v1' });
    expect(parseSecretManifests('x.yaml', '---\nkind: Secret\nmetadata: {name: a}\n---\nkind: Secret\nmetadata: {name: b}\ndata: [1]\n')).toEqual({
      ok: false,
      reason: 'document 2: Secret default/b: data is not a map',
    });
    const bad = parseSecretManifests('x.yaml', `a: b: ${CANARY_PASSWORD}`);
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).not.toContain(CANARY_PASSWORD);
    expect(parseSecretManifests('x.json', `{"password": "${CANARY_PASSWORD}"`)).toEqual({ ok: false, reason: 'not valid JSON' });
  });
});
