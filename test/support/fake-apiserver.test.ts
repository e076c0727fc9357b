/**
 * The fake API server against the recordings of a real kube-apiserver v1.36.2
 * (test/fixtures/apiserver-http). Requests are replayed as recorded (raw HTTP) or made with
 * @kubernetes/client-node 1.4.0; answers must match status, Status bodies byte-for-byte, and
 * object bodies (key order included) except for values that change per run.
 */
import { readFileSync } from 'node:fs';
import {
  AdmissionregistrationV1Api, ApiException, AuthenticationV1Api, AuthorizationV1Api, CoordinationV1Api, CoreV1Api,
  makeInformer, PatchStrategy, setHeaderOptions, V1MicroTime, Watch, type V1Secret,
} from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './fake-apiserver.js';

// ---- recordings ----

interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: unknown;
}

interface Exchange {
  request: RecordedRequest;
  response: { status: number; headers: Record<string, string>; body: unknown };
}

interface WatchRecording {
  request: RecordedRequest;
  response: { status: number; headers: Record<string, string> };
  lines: string[];
}

function recording<T = Exchange>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/apiserver-http/${name}.json`, import.meta.url), 'utf8')) as T;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const obj = (value: unknown): Record<string, Json> => value as Record<string, Json>;

// ---- comparison: everything but per-run values (uid, resourceVersion, timestamps, managedFields, tokens) ----

const VOLATILE = new Set(['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'time', 'expirationTimestamp', 'token']);

function decodeToken(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function normalize(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => normalize(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'managedFields')
        .map(([k, v]) => [k, normalize(v, k)]),
    );
  }
  if (typeof value === 'string') {
    if (VOLATILE.has(key)) return `<${key}>`;
    if (value.startsWith('JTI=')) return 'JTI=<jti>';
    if (key === 'continue') {
      const decoded = decodeToken(value);
      return { ...decoded, rv: decoded.rv === -1 ? -1 : '<rv>' };
    }
  }
  return value;
}

/** Same JSON (key order included) once per-run values are masked. */
function expectSameBody(actual: unknown, expected: unknown): void {
  expect(JSON.stringify(normalize(actual), null, 1)).toBe(JSON.stringify(normalize(expected), null, 1));
}

// ---- helpers ----

let fake: FakeApiServer;
let core: CoreV1Api;

beforeEach(async () => {
  fake = await startFakeApiServer();
  core = fake.kubeConfig().makeApiClient(CoreV1Api);
});

afterEach(async () => {
  await fake.close();
});

/** Sends a recorded request as recorded (optionally changed) and returns status and parsed body. */
async function replay(exchange: Exchange, change: { body?: unknown; query?: string } = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const { method, path, query, headers } = exchange.request;
  const body = 'body' in change ? change.body : exchange.request.body;
  const q = change.query ?? query;
  const res = await fetch(`${fake.url}${path}${q ? `?${q}` : ''}`, {
    method,
    headers: { Accept: 'application/json', ...(headers['Content-Type'] ? { 'Content-Type': headers['Content-Type'] } : {}) },
    body: body === null || body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined, headers: res.headers };
}

async function expectReplay(name: string, change?: { body?: unknown; query?: string }): Promise<unknown> {
  const exchange = recording(name);
  const answer = await replay(exchange, change);
  expect(answer.status, name).toBe(exchange.response.status);
  expectSameBody(answer.body, exchange.response.body);
  return answer.body;
}

async function apiError(promise: Promise<unknown>): Promise<{ code: number; body: unknown }> {
  try {
    await promise;
  } catch (error) {
    // client-node keeps the raw body text (none for 401).
    if (error instanceof ApiException) return { code: error.code, body: error.body === undefined ? undefined : (JSON.parse(String(error.body)) as unknown) };
    throw error;
  }
  throw new Error('expected the call to fail');
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const LABEL = 'serverless.kyma-project.io/remote-registry=config';

/** Polls until `condition` holds or 5 s passed (the caller asserts afterwards). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
}

/** Collects the lines of a client-node watch. */
function watchLines(path: string, query: Record<string, string | number | boolean>) {
  const lines: unknown[] = [];
  let resolveDone: (err: unknown) => void = () => undefined;
  const done = new Promise<unknown>((resolve) => {
    resolveDone = resolve;
  });
  const started = new Watch(fake.kubeConfig()).watch(path, query, (_type, _object, line) => lines.push(line), (err) => resolveDone(err));
  return {
    lines,
    done,
    started,
    async waitFor(count: number): Promise<unknown[]> {
      await until(() => lines.length >= count);
      expect(lines.length, 'watch events received').toBeGreaterThanOrEqual(count);
      return lines;
    },
    async stop(): Promise<void> {
      (await started).abort();
    },
  };
}

/** The recorded labelled Secret under another name. */
function secretBody(name: string): V1Secret {
  const body = recording('secret-create').request.body as V1Secret;
  return { ...body, metadata: { name, labels: { 'serverless.kyma-project.io/remote-registry': 'config' } } };
}

// ---- tests ----

describe('secrets: reads, writes, errors and patches as recorded', () => {
  beforeEach(() => {
    fake.createNamespace('rec-ysgdh');
    fake.createNamespace('rec-sys-ysgdh');
  });

  it('creates (201), reads, and answers NotFound / AlreadyExists / Conflict with the recorded Status bodies', async () => {
    const created = await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: recording('secret-create').request.body as V1Secret });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.creationTimestamp?.getUTCMilliseconds()).toBe(0);
    await expectReplay('secret-get');
    await expectReplay('secret-create-stringdata');

    for (const name of ['secret-get-notfound', 'secret-delete-notfound', 'secret-create-alreadyexists']) {
      const exchange = recording(name);
      const answer = await replay(exchange);
      expect(answer.status).toBe(exchange.response.status);
      expect(answer.body).toEqual(exchange.response.body); // no per-run values in these
    }
    const missing = await apiError(core.readNamespacedSecret({ name: 'does-not-exist', namespace: 'rec-ysgdh' }));
    expect(missing).toEqual({ code: 404, body: recording('secret-get-notfound').response.body });

    // PUT with a stale resourceVersion after a write: 409 Conflict.
    await core.patchNamespacedSecret({ name: 'serverless-registry-config', namespace: 'rec-ysgdh', body: { metadata: { annotations: { 'rec.example.com/bump': '2' } } } }, mergePatch);
    const stale = { ...(recording('secret-update-conflict').request.body as V1Secret) };
    stale.metadata = { ...stale.metadata, resourceVersion: created.metadata?.resourceVersion };
    const conflict = await apiError(core.replaceNamespacedSecret({ name: 'serverless-registry-config', namespace: 'rec-ysgdh', body: stale }));
    expect(conflict).toEqual({ code: 409, body: recording('secret-update-conflict').response.body });
  });

  it('applies JSON patches (test, replace of a missing key) and merge patches; a failed test is a 422 and writes nothing', async () => {
    await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: recording('secret-create').request.body as V1Secret });
    await core.patchNamespacedSecret({ name: 'serverless-registry-config', namespace: 'rec-ysgdh', body: { metadata: { annotations: { 'rec.example.com/bump': '2' } } } }, mergePatch);

    const patched = await expectReplay('secret-patch-json');
    const before = obj(obj(patched).metadata).resourceVersion;
    await expectReplay('secret-patch-json-test-failed');
    expect(fake.get('secrets', 'rec-ysgdh', 'serverless-registry-config')?.metadata?.resourceVersion).toBe(before);

    // client-node defaults to application/json-patch+json
    const viaClient = await core.patchNamespacedSecret({
      name: 'serverless-registry-config',
      namespace: 'rec-ysgdh',
      body: [{ op: 'test', path: '/metadata/resourceVersion', value: before }, { op: 'add', path: '/metadata/annotations/x', value: 'y' }],
    });
    expect(viaClient.metadata?.annotations?.x).toBe('y');
    await core.patchNamespacedSecret({ name: 'serverless-registry-config', namespace: 'rec-ysgdh', body: { metadata: { annotations: { x: null } } } }, mergePatch);
    expect(fake.count({ verb: 'patch', resource: 'secrets' })).toBe(5);

    await expectReplay('secret-patch-merge');
    await expectReplay('secret-patch-json-replace-missing-path');

    // A resourceVersion inside a patch is a precondition (409), like a PUT's.
    const stalePatch = await apiError(core.patchNamespacedSecret(
      { name: 'serverless-registry-config', namespace: 'rec-ysgdh', body: { metadata: { resourceVersion: before, labels: { a: 'b' } } } },
      mergePatch,
    ));
    expect(stalePatch.code).toBe(409);
    expect(obj(stalePatch.body).reason).toBe('Conflict');
  });

  it('deletes with the recorded Status Success body', async () => {
    await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: secretBody('serverless-registry-config-old') });
    const status = await core.deleteNamespacedSecret({ name: 'serverless-registry-config-old', namespace: 'rec-ysgdh' });
    expect(status.status).toBe('Success');
    await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: secretBody('serverless-registry-config-old') });
    await expectReplay('secret-delete');
    expect(fake.get('secrets', 'rec-ysgdh', 'serverless-registry-config-old')).toBeUndefined();
  });

  it('creating in a namespace that does not exist is a 404 for namespaces (unless relaxed)', async () => {
    const missing = await apiError(core.createNamespacedSecret({ namespace: 'nope', body: secretBody('x') }));
    expect(missing).toEqual({
      code: 404,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'namespaces "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'namespaces' }, code: 404 },
    });
    fake.requireNamespaces = false;
    await expect(core.createNamespacedSecret({ namespace: 'nope', body: secretBody('x') })).resolves.toBeDefined();
  });

  it('keeps an object with finalizers until an update empties them, then removes it (DELETED event)', async () => {
    await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: { ...secretBody('base'), metadata: { name: 'base', finalizers: ['rec.example.com/propagation'] } } });
    const watch = watchLines('/api/v1/namespaces/rec-ysgdh/secrets', { resourceVersion: fake.resourceVersion });
    await fake.waitForWatches({ resource: 'secrets' });
    const deleted = await fetch(`${fake.url}/api/v1/namespaces/rec-ysgdh/secrets/base`, { method: 'DELETE' });
    const body = obj(await deleted.json());
    expect(deleted.status).toBe(200);
    expect(body.kind).toBe('Secret'); // still there: the object, not a Status
    expect(obj(body.metadata).deletionTimestamp).toMatch(/Z$/);
    expect(obj(body.metadata).deletionGracePeriodSeconds).toBe(0);
    const stillThere = await core.readNamespacedSecret({ name: 'base', namespace: 'rec-ysgdh' });
    expect(stillThere.metadata?.finalizers).toEqual(['rec.example.com/propagation']);

    await core.patchNamespacedSecret({ name: 'base', namespace: 'rec-ysgdh', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
    expect(fake.get('secrets', 'rec-ysgdh', 'base')).toBeUndefined();
    const lines = (await watch.waitFor(2)) as Array<{ type: string; object: { metadata: { finalizers?: string[]; resourceVersion: string } } }>;
    expect(lines.map((l) => l.type)).toEqual(['MODIFIED', 'DELETED']);
    expect(lines[1]?.object.metadata.finalizers).toEqual(['rec.example.com/propagation']);
    expect(lines[1]?.object.metadata.resourceVersion).toBe(fake.resourceVersion);
    await watch.stop();
  });

  it('rejects invalid Secrets with 422 Invalid and field causes', async () => {
    const bad = await apiError(core.createNamespacedSecret({
      namespace: 'rec-ysgdh',
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pull' }, type: 'kubernetes.io/dockerconfigjson', data: { 'bad key': 'eA==' } },
    }));
    expect(bad.code).toBe(422);
    const body = obj(bad.body);
    expect(body.reason).toBe('Invalid');
    expect(body.details).toEqual({
      name: 'pull',
      kind: 'Secret',
      causes: [
        expect.objectContaining({ reason: 'FieldValueInvalid', field: 'data[bad key]' }),
        { reason: 'FieldValueRequired', message: 'Required value', field: 'data[.dockerconfigjson]' },
      ],
    });
    expect(body.message).toMatch(/^Secret "pull" is invalid: \[data\[bad key\]: Invalid value: "bad key": a valid config key/);
  });
});

describe('LIST with selectors and pagination as recorded', () => {
  /** The cluster of the recordings at RV 1312: labelled Secrets in several namespaces plus an unlabelled one. */
  function seedRecordedCluster(): void {
    const items = obj(recording('secrets-list-labelselector').response.body).items as Array<Record<string, Json>>;
    fake.seed(items.map((item) => ({ apiVersion: 'v1', kind: 'Secret', ...item })));
    fake.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'zz-unlabelled', namespace: 'rec-ysgdh' }, data: {} });
  }

  it('lists across namespaces with a label selector (items without kind/apiVersion)', async () => {
    seedRecordedCluster();
    await expectReplay('secrets-list-labelselector');
    const list = await core.listSecretForAllNamespaces({ labelSelector: LABEL });
    expect(list.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)).toHaveLength(9);
  });

  it('pages with limit+continue in the real token format, selector pages end with an empty page', async () => {
    seedRecordedCluster();
    const first = await expectReplay('secrets-list-labelselector-limit1');
    const listRv = obj(obj(first).metadata).resourceVersion;
    let token = String(obj(obj(first).metadata).continue);
    expect(decodeToken(token)).toEqual({ v: 'meta.k8s.io/v1', rv: Number(listRv), start: '/default/buggy-patch-badjson-opaque\u0000' });

    const pages: unknown[] = [first];
    for (let i = 0; i < 20 && token; i++) {
      const page = await core.listSecretForAllNamespaces({ labelSelector: LABEL, limit: 1, _continue: token });
      expect(page.metadata?.resourceVersion).toBe(listRv); // every page repeats the first page's RV
      expect(page.metadata?.remainingItemCount).toBeUndefined();
      pages.push(page);
      token = page.metadata?._continue ?? '';
    }
    expect(pages).toHaveLength(10);
    const page2 = recording('secrets-list-labelselector-limit1-page2');
    const answer2 = await replay(page2, { query: `continue=${String(obj(obj(first).metadata).continue)}&labelSelector=${encodeURIComponent(LABEL)}&limit=1` });
    expectSameBody(answer2.body, page2.response.body);
    const last = recording('secrets-list-labelselector-limit1-lastpage');
    const ninth = pages[8] as { metadata: { _continue: string } };
    const answer10 = await replay(last, { query: `continue=${ninth.metadata._continue}&labelSelector=${encodeURIComponent(LABEL)}&limit=1` });
    expectSameBody(answer10.body, last.response.body);
  });

  it('gives remainingItemCount only without selectors', async () => {
    seedRecordedCluster();
    await expectReplay('secrets-list-namespace-limit1');
  });

  it('serves old pages and Exact lists inside the window, 410 outside it', async () => {
    seedRecordedCluster();
    const first = await core.listSecretForAllNamespaces({ labelSelector: LABEL, limit: 1 });
    const listRv = first.metadata?.resourceVersion ?? '';
    await core.deleteNamespacedSecret({ name: 'serverless-registry-config', namespace: 'default' });
    fake.compactTo(listRv); // the token's RV is still servable
    const second = await core.listSecretForAllNamespaces({ labelSelector: LABEL, limit: 1, _continue: first.metadata?._continue });
    expect(second.items[0]?.metadata?.name).toBe('serverless-registry-config'); // consistent snapshot: deleted since
    const exact = await core.listSecretForAllNamespaces({ labelSelector: LABEL, resourceVersion: listRv, resourceVersionMatch: 'Exact' });
    expect(exact.items).toHaveLength(9);
    expect(exact.metadata?.resourceVersion).toBe(listRv);

    fake.compact();
    const expired = await apiError(core.listSecretForAllNamespaces({ labelSelector: LABEL, limit: 1, _continue: first.metadata?._continue }));
    expect(expired.code).toBe(410);
    const fresh = decodeToken(String(obj(obj(expired.body).metadata).continue));
    expect(fresh).toEqual({ v: 'meta.k8s.io/v1', rv: -1, start: 'default/buggy-patch-badjson-opaque\u0000' });
    // The recorded expired requests (rv 16) get byte-identical answers.
    for (const name of ['secrets-list-continue-expired-410', 'secrets-list-exact-410']) {
      const exchange = recording(name);
      const answer = await replay(exchange);
      expect(answer.status).toBe(410);
      expect(answer.body).toEqual(exchange.response.body);
    }
    const notOlder = await replay(recording('secrets-list-notolderthan-old-rv'));
    expect(notOlder.status).toBe(200);
    expect(obj(obj(notOlder.body).metadata).resourceVersion).toBe(fake.resourceVersion);
  });

  it('implements the label selector grammar and metadata field selectors', async () => {
    fake.createNamespace('ns');
    const put = (name: string, labels: Record<string, string>): void => {
      fake.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'ns', labels } });
    };
    put('a', { tier: 'x', env: 'prod' });
    put('b', { tier: 'y' });
    put('c', { env: 'dev' });
    const names = async (query: Record<string, string>): Promise<string[]> =>
      (await core.listNamespacedSecret({ namespace: 'ns', ...query })).items.map((s) => s.metadata?.name ?? '');
    expect(await names({ labelSelector: 'tier in (x, y)' })).toEqual(['a', 'b']);
    expect(await names({ labelSelector: 'tier notin (x)' })).toEqual(['b', 'c']);
    expect(await names({ labelSelector: '!tier' })).toEqual(['c']);
    expect(await names({ labelSelector: 'env,tier!=y' })).toEqual(['a', 'c']); // != also matches a missing label
    expect(await names({ labelSelector: 'env==dev' })).toEqual(['c']);
    expect(await names({ fieldSelector: 'metadata.name=b' })).toEqual(['b']);
    expect(await names({ fieldSelector: 'metadata.name!=b,metadata.namespace=ns' })).toEqual(['a', 'c']);
    const bad = await apiError(core.listNamespacedSecret({ namespace: 'ns', fieldSelector: 'spec.foo=x' }));
    expect(bad.code).toBe(400);
    expect(obj(bad.body).message).toBe('field label not supported: spec.foo');
    expect((await apiError(core.listNamespacedSecret({ namespace: 'ns', labelSelector: 'a in (' }))).code).toBe(400);
  });
});

describe('WATCH as recorded', () => {
  beforeEach(() => {
    fake.createNamespace('rec-ysgdh');
    fake.createNamespace('rec-sys-ysgdh');
  });

  /** Replays the write sequence of secrets-watch-events.json against a label-selected watch. */
  async function runRecordedWatchScenario(): Promise<{ listRv: string; lines: unknown[]; relabelRv: string }> {
    await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: recording('secret-create').request.body as V1Secret });
    const old = secretBody('serverless-registry-config-old');
    await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: { ...old, data: { ...old.data, password: 'b2xkLXBhc3M=' } } });
    const list = await core.listSecretForAllNamespaces({ labelSelector: LABEL });
    const listRv = list.metadata?.resourceVersion ?? '';

    const watch = watchLines('/api/v1/secrets', { labelSelector: LABEL, resourceVersion: listRv, allowWatchBookmarks: true, timeoutSeconds: 20 });
    await fake.waitForWatches({ resource: 'secrets' });
    const demo = await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: recording('secret-create-labelled-during-watch').request.body as V1Secret });
    await core.replaceNamespacedSecret({ name: 'watch-demo', namespace: 'rec-ysgdh', body: { ...demo, data: { ...demo.data, password: 'bjN3LXMzY3IzdC1wYXNz' } } });
    const relabel = await core.patchNamespacedSecret({ name: 'watch-demo', namespace: 'rec-ysgdh', body: recording('secret-relabel-away-merge-patch').request.body }, mergePatch);
    expectSameBody(JSON.parse(JSON.stringify(fake.get('secrets', 'rec-ysgdh', 'watch-demo'))), recording('secret-relabel-away-merge-patch').response.body);
    await core.patchNamespacedSecret({ name: 'watch-demo', namespace: 'rec-ysgdh', body: { metadata: { annotations: { 'rec.example.com/touched': 'while-unlabelled' } } } }, mergePatch);
    await core.deleteNamespacedSecret({ name: 'serverless-registry-config-old', namespace: 'rec-ysgdh' });
    await core.patchNamespacedSecret({ name: 'watch-demo', namespace: 'rec-ysgdh', body: { metadata: { labels: { 'serverless.kyma-project.io/remote-registry': 'config' } } } }, mergePatch);
    await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unlabelled' }, data: {} } });
    fake.bookmark();
    const lines = await watch.waitFor(6);
    await watch.stop();
    return { listRv, lines, relabelRv: relabel.metadata?.resourceVersion ?? '' };
  }

  it('label-selected watch: ADDED, MODIFIED, DELETED on relabel (old object, new RV), DELETED, ADDED, BOOKMARK', async () => {
    const { lines, relabelRv } = await runRecordedWatchScenario();
    const recorded = recording<WatchRecording>('secrets-watch-events').lines.map((l) => JSON.parse(l) as unknown);
    expect(lines).toHaveLength(6);
    lines.forEach((line, i) => expectSameBody(line, recorded[i]));
    const relabelled = lines[2] as { type: string; object: V1Secret };
    expect(relabelled.type).toBe('DELETED');
    expect(relabelled.object.metadata?.resourceVersion).toBe(relabelRv);
    expect(relabelled.object.metadata?.labels).toEqual({ 'serverless.kyma-project.io/remote-registry': 'config' });
    expect(relabelled.object.data?.password).toBe('bjN3LXMzY3IzdC1wYXNz');
    const bookmark = lines[5] as { object: { metadata: { resourceVersion: string } } };
    expect(bookmark.object.metadata.resourceVersion).toBe(fake.resourceVersion);
  });

  it('replays missed events from an RV inside the window; 410 as an in-stream ERROR line once expired', async () => {
    const { listRv } = await runRecordedWatchScenario();
    fake.compactTo(listRv);
    const replayed = watchLines('/api/v1/secrets', { labelSelector: LABEL, resourceVersion: listRv, allowWatchBookmarks: true, timeoutSeconds: 3 });
    const lines = await replayed.waitFor(5);
    const recorded = recording<WatchRecording>('secrets-watch-after-compaction-in-cache-window').lines.map((l) => JSON.parse(l) as unknown);
    lines.slice(0, 5).forEach((line, i) => expectSameBody(line, recorded[i]));
    await replayed.stop();

    fake.compact();
    const expired = watchLines('/api/v1/secrets', { labelSelector: LABEL, resourceVersion: listRv, allowWatchBookmarks: true, timeoutSeconds: 20 });
    expect(await expired.done).toBeNull(); // the server ended the stream
    const recordedError = recording<WatchRecording>('secrets-watch-410').lines[0] ?? '';
    expect(expired.lines).toHaveLength(1);
    const pattern = (s: string): string => s.replace(/\d+ \(\d+\)/, 'N (M)');
    expect(pattern(JSON.stringify(expired.lines[0]))).toBe(pattern(recordedError));
    expect(JSON.stringify(expired.lines[0])).toContain(`too old resource version: ${listRv} (${fake.oldestResourceVersion})`);

    // The raw stream: 200, application/json, chunked.
    const raw = await fetch(`${fake.url}/api/v1/secrets?watch=true&resourceVersion=${listRv}`);
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('application/json');
    expect(raw.headers.get('transfer-encoding')).toBe('chunked');
    expect((await raw.text()).trim()).toBe(JSON.stringify(expired.lines[0]));
  });

  it('without resourceVersion starts with synthetic ADDED events; timeoutSeconds ends the stream', async () => {
    await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: recording('secret-create').request.body as V1Secret });
    const watch = watchLines('/api/v1/namespaces/rec-ysgdh/secrets', { timeoutSeconds: 1 });
    expect(await watch.done).toBeNull();
    expect(watch.lines.map((l) => (l as { type: string }).type)).toEqual(['ADDED']);
  });

  it('a dropped watch ends with an error on the client; an informer re-lists after a 410', async () => {
    const watch = watchLines('/api/v1/secrets', { resourceVersion: fake.resourceVersion });
    await fake.waitForWatches({ resource: 'secrets' });
    fake.dropWatches();
    expect(await watch.done).toBeInstanceOf(Error);
    expect(fake.watches).toHaveLength(0);

    const kc = fake.kubeConfig();
    const client = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer(kc, '/api/v1/secrets', () => client.listSecretForAllNamespaces({ labelSelector: LABEL }), LABEL);
    const added: string[] = [];
    informer.on('add', (s) => added.push(s.metadata?.name ?? ''));
    await informer.start();
    await fake.waitForWatches({ resource: 'secrets' });
    await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: secretBody('one') });
    // An unlabelled write moves the RV past what the label-selected informer has seen.
    await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: { metadata: { name: 'noise' }, data: {} } });
    fake.compact();
    fake.endWatches(); // the informer re-watches from its RV, gets the 410 ERROR line, and lists again
    await fake.waitForRequests({ verb: 'list', resource: 'secrets' }, 2);
    await fake.waitForWatches({ resource: 'secrets' });
    await core.createNamespacedSecret({ namespace: 'rec-ysgdh', body: secretBody('two') });
    await until(() => added.length >= 2);
    await informer.stop();
    expect(added).toEqual(['one', 'two']);
    expect(fake.count({ verb: 'list', resource: 'secrets' })).toBe(2);
    expect(fake.count({ verb: 'watch', resource: 'secrets' })).toBe(1 + 3); // the dropped one, then initial, expired, after re-list
  });
});

describe('MutatingWebhookConfiguration as recorded', () => {
  it('fills the server defaults, bumps generation, and injects caBundle with a JSON patch guarded by resourceVersion', async () => {
    const admission = fake.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
    const created = obj(await expectReplay('mwc-create'));
    expect(obj(created.metadata).generation).toBe(1);
    const rv = String(obj(created.metadata).resourceVersion);

    const ops = recording('mwc-patch-cabundle').request.body as Array<Record<string, Json>>;
    const withRv = ops.map((op) => (op.op === 'test' ? { ...op, value: rv } : op));
    const patched = await admission.patchMutatingWebhookConfiguration({ name: 'rec-ysgdh-registry-config', body: withRv });
    expect(patched.metadata?.generation).toBe(2);
    const raw = fake.get('mutatingwebhookconfigurations', undefined, 'rec-ysgdh-registry-config');
    expectSameBody(raw, recording('mwc-patch-cabundle').response.body);

    const stale = await apiError(admission.patchMutatingWebhookConfiguration({ name: 'rec-ysgdh-registry-config', body: withRv }));
    expect(stale).toEqual({ code: 422, body: recording('mwc-patch-cabundle-stale-rv').response.body });

    // kubectl patch --type=json remove, seen by a fieldSelector watch as one MODIFIED.
    const watch = watchLines('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', {
      fieldSelector: 'metadata.name=rec-ysgdh-registry-config', resourceVersion: String(patched.metadata?.resourceVersion), allowWatchBookmarks: true, timeoutSeconds: 8,
    });
    await fake.waitForWatches({ resource: 'mutatingwebhookconfigurations' });
    const kubectl = recording<{ exchanges: Exchange[] }>('mwc-kubectl-patch-remove-cabundle').exchanges;
    for (const exchange of kubectl) {
      const answer = await replay(exchange, { query: exchange.request.query });
      expect(answer.status).toBe(200);
      expectSameBody(answer.body, exchange.response.body);
    }
    fake.bookmark();
    const lines = await watch.waitFor(2);
    await watch.stop();
    const recorded = recording<WatchRecording>('mwc-watch-events').lines.map((l) => JSON.parse(l) as unknown);
    lines.forEach((line, i) => expectSameBody(line, recorded[i]));
    expect(fake.count({ verb: 'patch', resource: 'mutatingwebhookconfigurations' })).toBe(3);

    await expectReplay('mwc-patch-cabundle-replace-when-absent');
    expect(fake.get('mutatingwebhookconfigurations', undefined, 'rec-ysgdh-registry-config')?.metadata?.generation).toBe(4);
  });

  it('rejects webhooks without sideEffects and answers a no-op update without a write', async () => {
    const admission = fake.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
    const body = recording('mwc-create').request.body as Record<string, Json>;
    const hooks = body.webhooks as Array<Record<string, Json>>;
    const invalid = await apiError(admission.createMutatingWebhookConfiguration({
      body: { ...body, webhooks: hooks.map(({ sideEffects: _s, ...hook }) => hook) } as never,
    }));
    expect(invalid.code).toBe(422);
    expect(obj(invalid.body).message).toBe(
      'MutatingWebhookConfiguration.admissionregistration.k8s.io "rec-ysgdh-registry-config" is invalid: [webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun, webhooks[1].sideEffects: Required value: must specify one of None, NoneOnDryRun]',
    );
    const created = await admission.createMutatingWebhookConfiguration({ body: body as never });
    const again = await admission.replaceMutatingWebhookConfiguration({ name: 'rec-ysgdh-registry-config', body: created });
    expect(again.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect(again.metadata?.generation).toBe(1);
  });
});

describe('Leases as recorded', () => {
  beforeEach(() => {
    fake.createNamespace('rec-ysgdh');
  });

  it('accepts MicroTime with six fractional digits, rejects others with 400, and detects stale updates', async () => {
    const coordination = fake.kubeConfig().makeApiClient(CoordinationV1Api);
    const created = obj(await expectReplay('lease-create'));
    const rv = String(obj(created.metadata).resourceVersion);
    for (const name of ['lease-create-millis-time', 'lease-create-no-fraction-time']) {
      const exchange = recording(name);
      const answer = await replay(exchange);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual(exchange.response.body);
    }
    const renew = recording('lease-update').request.body as Record<string, Json>;
    const uid = String(obj(created.metadata).uid);
    const renewed = await replay(recording('lease-update'), { body: { ...renew, metadata: { ...obj(renew.metadata), uid, resourceVersion: rv } } });
    expect(renewed.status).toBe(200);
    expectSameBody(renewed.body, recording('lease-update').response.body);
    const takeover = recording('lease-update-conflict').request.body as Record<string, Json>;
    const conflict = await replay(recording('lease-update-conflict'), { body: { ...takeover, metadata: { ...obj(takeover.metadata), uid, resourceVersion: rv } } });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual(recording('lease-update-conflict').response.body);

    // client-node's V1MicroTime writes six digits: accepted.
    const lease = await coordination.createNamespacedLease({
      namespace: 'rec-ysgdh',
      body: { metadata: { name: 'via-client' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: new V1MicroTime(), renewTime: new V1MicroTime() } },
    });
    expect(lease.spec?.holderIdentity).toBe('me');
    const stored = fake.get('leases', 'rec-ysgdh', 'via-client');
    expect(obj(stored?.spec).renewTime).toMatch(/\.\d{6}Z$/);
  });
});

describe('Namespace termination as recorded', () => {
  it('DELETE marks Terminating; creates are 403; /finalize removes it; the watch sees ADDED, MODIFIED, DELETED', async () => {
    const startRv = fake.resourceVersion;
    const watch = watchLines('/api/v1/namespaces', { fieldSelector: 'metadata.name=rec-term-ysgdh', resourceVersion: startRv, allowWatchBookmarks: true, timeoutSeconds: 15 });
    await fake.waitForWatches({ resource: 'namespaces' });
    await expectReplay('namespace-create');
    await core.createNamespacedSecret({ namespace: 'rec-term-ysgdh', body: { metadata: { name: 'content-in-terminating-ns' }, data: {} } });
    const deleted = obj(await expectReplay('namespace-delete'));
    await expectReplay('namespace-get-terminating');
    const forbidden = recording('namespace-terminating-create-forbidden');
    const answer = await replay(forbidden);
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual(forbidden.response.body);
    const again = await apiError(core.deleteNamespace({ name: 'rec-term-ysgdh' }));
    expect(again.code).toBe(409);
    await core.deleteNamespacedSecret({ name: 'content-in-terminating-ns', namespace: 'rec-term-ysgdh' }); // deletes are allowed

    const current = await core.readNamespace({ name: 'rec-term-ysgdh' });
    const finalized = await core.replaceNamespaceFinalize({ name: 'rec-term-ysgdh', body: { ...current, spec: { finalizers: [] } } });
    expect(finalized.metadata?.resourceVersion).toBe(obj(deleted.metadata).resourceVersion);
    const finalizeAnswer = fake.requests.at(-1);
    expect(finalizeAnswer?.status).toBe(200);
    const missing = recording('namespace-get-after-finalize');
    const gone = await replay(missing);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual(missing.response.body);

    fake.bookmark();
    const lines = await watch.waitFor(4);
    await watch.stop();
    const recorded = recording<WatchRecording>('namespace-watch-events').lines.map((l) => JSON.parse(l) as unknown);
    lines.forEach((line, i) => expectSameBody(line, recorded[i]));
    expect(fake.get('namespaces', undefined, 'rec-term-ysgdh')).toBeUndefined();
  });

  it('matches the recorded finalize answer and supports the namespace-controller helper', async () => {
    await expectReplay('namespace-create');
    const deleted = obj(await expectReplay('namespace-delete'));
    const exchange = recording('namespace-finalize');
    const body = exchange.request.body as Record<string, Json>;
    const { uid, resourceVersion } = obj(deleted.metadata);
    const answer = await replay(exchange, { body: { ...body, metadata: { ...obj(body.metadata), uid, resourceVersion } } });
    expect(answer.status).toBe(200);
    expectSameBody(answer.body, exchange.response.body);

    fake.createNamespace('other');
    fake.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'other' } });
    fake.terminateNamespace('other');
    expect((await apiError(core.createNamespacedSecret({ namespace: 'other', body: secretBody('late') }))).code).toBe(403);
    expect(fake.finalizeNamespace('other')).toBe(true);
    expect(fake.list('secrets', 'other')).toEqual([]);
    const immortal = await apiError(core.deleteNamespace({ name: 'default' }));
    expect(obj(immortal.body).message).toBe('namespaces "default" is forbidden: this namespace may not be deleted');
  });
});

describe('Events as recorded', () => {
  it('validates core/v1 and events.k8s.io/v1 Events like the real server', async () => {
    fake.createNamespace('rec-ysgdh');
    for (const name of [
      'event-events-v1-create-invalid',
      'event-events-v1-create-eventtime-only-invalid',
      'event-events-v1-create-without-regarding',
      'event-events-v1-create',
      'event-core-v1-create-invalid',
      'event-core-v1-create-bare',
      'event-core-v1-create',
    ]) {
      await expectReplay(name);
    }
    // One storage, two views.
    const viaCore = await core.listNamespacedEvent({ namespace: 'rec-ysgdh' });
    expect(viaCore.items.map((e) => e.metadata?.name)).toEqual(['bare-core.1a21e30ffb0', 'serverless-registry-config.1a21e30ff8a', 'serverless-registry-config.1a21e30ffbf']);
    const converted = viaCore.items.find((e) => e.metadata?.name === 'serverless-registry-config.1a21e30ff8a');
    expect(converted?.involvedObject.name).toBe('serverless-registry-config');
    expect(converted?.reportingComponent).toBe('rec.example.com/registry-config-webhook');
  });
});

describe('TokenReview, TokenRequest and SubjectAccessReview as recorded', () => {
  it('authenticates minted ServiceAccount tokens and evaluates RBAC', async () => {
    fake.createNamespace('rec-ysgdh');
    const authn = fake.kubeConfig().makeApiClient(AuthenticationV1Api);
    const authz = fake.kubeConfig().makeApiClient(AuthorizationV1Api);
    await expectReplay('serviceaccount-create');
    const minted = await expectReplay('serviceaccount-token-request-json');
    const token = String(obj(obj(minted).status).token);

    const reviewed = await expectReplay('tokenreview-authenticated', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
    expect(obj(obj(obj(reviewed).status).user).uid).toBe(fake.get('serviceaccounts', 'rec-ysgdh', 'registry-reader')?.metadata?.uid);
    await expectReplay('tokenreview-garbage');
    await expectReplay('tokenreview-wrong-audience', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { audiences: ['registry-config-webhook'], token } } });
    const garbage = await authn.createTokenReview({ body: { spec: { token: 'nope' } } });
    expect(garbage.status).toEqual({ user: {}, error: 'invalid bearer token' });
    expect(Object.keys(garbage.status ?? {})).not.toContain('authenticated');

    await expectReplay('subjectaccessreview-denied');
    await expectReplay('role-create');
    await expectReplay('rolebinding-create');
    await expectReplay('subjectaccessreview-allowed');
    await expectReplay('subjectaccessreview-denied-list');

    fake.authorize = (spec) => (spec.resourceAttributes?.verb === 'list' ? { allowed: true, reason: 'test says so' } : undefined);
    const sar = await authz.createSubjectAccessReview({
      body: { spec: { user: 'system:serviceaccount:rec-ysgdh:registry-reader', resourceAttributes: { namespace: 'rec-ysgdh', verb: 'list', resource: 'secrets', version: 'v1' } } },
    });
    expect(sar.status).toEqual({ allowed: true, reason: 'test says so' });

    await core.deleteNamespacedServiceAccount({ name: 'registry-reader', namespace: 'rec-ysgdh' });
    const afterDelete = await authn.createTokenReview({ body: { spec: { token } } });
    expect(afterDelete.status?.authenticated).toBeUndefined();
    expect(afterDelete.status?.error).toBe('[invalid bearer token, serviceaccounts "registry-reader" not found]');
  });

  it('reviews tokens registered by the test', async () => {
    const authn = fake.kubeConfig().makeApiClient(AuthenticationV1Api);
    const token = fake.issueToken({ username: 'alice', groups: ['devs'], audiences: ['registry-config-webhook'] });
    const review = await authn.createTokenReview({ body: { spec: { token, audiences: ['registry-config-webhook'] } } });
    expect(review.status).toEqual({ authenticated: true, user: { username: 'alice', groups: ['devs', 'system:authenticated'] }, audiences: ['registry-config-webhook'] });

    fake.authenticate = (t) => (t === 'magic' ? { username: 'bob', uid: 'u-1' } : undefined);
    const viaHook = await authn.createTokenReview({ body: { spec: { token: 'magic' } } });
    expect(viaHook.status).toEqual({ authenticated: true, user: { username: 'bob', uid: 'u-1', groups: ['system:authenticated'] }, audiences: ['https://kubernetes.default.svc.cluster.local'] });
  });
});

describe('test controls', () => {
  it('injects failures, logs requests and can require authentication', async () => {
    fake.createNamespace('ns');
    fake.failNext({ verb: 'get', resource: 'secrets', status: 503, message: 'try later' });
    const failed = await apiError(core.readNamespacedSecret({ name: 'x', namespace: 'ns' }));
    expect(failed.code).toBe(503);
    expect(failed.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'try later', reason: 'ServiceUnavailable', code: 503 });
    expect((await apiError(core.readNamespacedSecret({ name: 'x', namespace: 'ns' }))).code).toBe(404);

    fake.failNext({ method: 'POST', path: '/api/v1/namespaces/ns/secrets', drop: true });
    await expect(core.createNamespacedSecret({ namespace: 'ns', body: secretBody('x') })).rejects.toThrow();
    expect(fake.get('secrets', 'ns', 'x')).toBeUndefined();

    const requests = fake.requests.filter((r) => r.resource === 'secrets');
    expect(requests.map((r) => [r.method, r.verb, r.status])).toEqual([['GET', 'get', 503], ['GET', 'get', 404], ['POST', 'create', 0]]);
    expect(requests[2]?.contentType).toBe('application/json');
    expect(fake.count({ resource: 'secrets', namespace: 'ns' })).toBe(3);

    const strict = await startFakeApiServer({ authenticateRequests: true, namespaces: [] });
    try {
      const anonymous = strict.kubeConfig({ token: 'unknown' }).makeApiClient(CoreV1Api);
      expect((await apiError(anonymous.listNamespace())).code).toBe(401);
      expect((await strict.kubeConfig().makeApiClient(CoreV1Api).listNamespace()).items).toEqual([]);
    } finally {
      await strict.close();
    }
  });

  it('can authorize every request with RBAC as kube-apiserver does: resourceNames, a name in a fieldSelector, 403 bodies', async () => {
    const rbac = await startFakeApiServer({ authorizeRequests: true, namespaces: ['ns'] });
    try {
      rbac.seed([
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'app', namespace: 'ns' } },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'one-map', namespace: 'ns' },
          rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'], verbs: ['get', 'list', 'watch'] }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'app-one-map', namespace: 'ns' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'one-map' },
          subjects: [{ kind: 'ServiceAccount', name: 'app', namespace: 'ns' }],
        },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'ns' } },
      ]);
      const token = rbac.issueServiceAccountToken('ns', 'app');
      const ask = (path: string) => fetch(`${rbac.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect((await ask('/api/v1/namespaces/ns/configmaps/settings')).status).toBe(200);
      expect((await ask('/api/v1/namespaces/ns/configmaps?fieldSelector=metadata.name%3Dsettings')).status).toBe(200);
      // The bootstrap roles every cluster has: discovery for everyone, issuer discovery for ServiceAccounts.
      expect((await ask('/api')).status).toBe(200);
      expect((await ask('/.well-known/openid-configuration')).status).toBe(200);

      const list = await ask('/api/v1/namespaces/ns/configmaps');
      expect(list.status).toBe(403);
      expect(await list.json()).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'configmaps is forbidden: User "system:serviceaccount:ns:app" cannot list resource "configmaps" in API group "" in the namespace "ns"',
        reason: 'Forbidden',
        details: { kind: 'configmaps' },
        code: 403,
      });
      const lease = await ask('/apis/coordination.k8s.io/v1/namespaces/ns/leases/l');
      expect((await lease.json()) as unknown).toMatchObject({
        message: 'leases.coordination.k8s.io "l" is forbidden: User "system:serviceaccount:ns:app" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "ns"',
        details: { name: 'l', group: 'coordination.k8s.io', kind: 'leases' },
      });
      const cluster = await (await ask('/api/v1/namespaces')).json();
      expect(cluster).toMatchObject({ message: 'namespaces is forbidden: User "system:serviceaccount:ns:app" cannot list resource "namespaces" in API group "" at the cluster scope' });
      const path = await ask('/metrics');
      expect(path.status).toBe(403);
      expect(await path.json()).toMatchObject({ message: 'forbidden: User "system:serviceaccount:ns:app" cannot get path "/metrics"', details: {} });
      // The admin token is system:masters.
      expect((await rbac.kubeConfig().makeApiClient(CoreV1Api).listNamespace()).items.map((n) => n.metadata?.name)).toEqual(['ns']);
    } finally {
      await rbac.close();
    }
  });

  it('serves discovery and extra kinds registered in one line', async () => {
    fake.registerKind({ group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true });
    fake.createNamespace('ns');
    const res = await fetch(`${fake.url}/apis/apps/v1/namespaces/ns/deployments`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 1 } }),
    });
    expect(res.status).toBe(201);
    expect(fake.get('deployments', 'ns', 'd')?.spec).toEqual({ replicas: 1 });
    const discovery = obj(await (await fetch(`${fake.url}/api/v1`)).json());
    expect((discovery.resources as Array<Record<string, Json>>).map((r) => r.name)).toContain('namespaces/finalize');
  });
});
