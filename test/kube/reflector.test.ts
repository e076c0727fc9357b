import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Reflector, type RestartReason } from '../../src/kube/reflector.js';
import { eventually } from '../support/eventually.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { captureLogs } from '../support/log-capture.js';

const LABEL = 'serverless.kyma-project.io/remote-registry';
const secret = (namespace: string, name: string, labelled = true): V1Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { namespace, name, ...(labelled ? { labels: { [LABEL]: 'config' } } : {}) },
  data: { password: Buffer.from(`${namespace}/${name}`).toString('base64') },
});

/** A sink that mirrors what the reflector says, keyed namespace/name. */
function mirror() {
  const state = new Map<string, V1Secret>();
  const key = (s: V1Secret) => `${s.metadata?.namespace}/${s.metadata?.name}`;
  let replaceAlls = 0;
  return {
    state,
    replaceAlls: () => replaceAlls,
    sink: {
      replaceAll(items: V1Secret[]) {
        replaceAlls++;
        state.clear();
        for (const item of items) state.set(key(item), item);
      },
      upsert(item: V1Secret) {
        state.set(key(item), item);
      },
      remove(item: V1Secret) {
        state.delete(key(item));
      },
    },
  };
}

describe('Reflector (list + watch) against the fake API server', () => {
  let fake: FakeApiServer;
  let reflector: Reflector<V1Secret> | undefined;
  const restarts: RestartReason[] = [];

  beforeEach(async () => {
    fake = await startFakeApiServer({ namespaces: ['default', 'team-a', 'team-b'] });
    restarts.length = 0;
  });
  afterEach(async () => {
    await reflector?.stop();
    await fake.close();
  });

  function start(view: ReturnType<typeof mirror>, resyncPeriodMs = 60_000) {
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    reflector = new Reflector<V1Secret>({
      name: 'test secrets',
      kubeConfig: fake.kubeConfig(),
      userAgent: 'registry-config-webhook/reflector-test',
      list: ({ continue: cont, limit }) => core.listSecretForAllNamespaces({ labelSelector: `${LABEL}=config`, limit, ...(cont ? { _continue: cont } : {}) }),
      watchPath: '/api/v1/secrets',
      watchQuery: { labelSelector: `${LABEL}=config` },
      sink: view.sink,
      log: captureLogs('warn').log,
      resyncPeriodMs,
      pageSize: 2,
      backoff: { initialMs: 20, maxMs: 100 },
      onRestart: (reason) => restarts.push(reason),
    });
    return reflector.start();
  }

  it('lists every page, then follows creates, updates, relabels and deletes', async () => {
    fake.seed([secret('default', 'a'), secret('team-a', 'b'), secret('team-b', 'c'), secret('team-b', 'd'), secret('team-a', 'unlabelled', false)]);
    const view = mirror();
    await start(view);
    expect([...view.state.keys()].sort()).toEqual(['default/a', 'team-a/b', 'team-b/c', 'team-b/d']);
    // 4 matching items in pages of 2: the list was paginated (a selector may add an empty last page).
    expect(fake.count({ verb: 'list', resource: 'secrets' })).toBeGreaterThanOrEqual(2);
    await fake.waitForWatches();
    // The watch names us too (client-node's Watch takes no per-call middleware).
    const watches = fake.requests.filter((r) => r.verb === 'watch');
    expect(watches.length).toBeGreaterThan(0);
    for (const watch of watches) expect(watch.headers['user-agent']).toBe('registry-config-webhook/reflector-test');

    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({ namespace: 'team-a', body: secret('team-a', 'new') });
    await eventually(() => expect(view.state.has('team-a/new')).toBe(true));
    await core.patchNamespacedSecret({ namespace: 'team-b', name: 'c', body: [{ op: 'replace', path: '/data/password', value: 'Y2hhbmdlZA==' }] });
    await eventually(() => expect(view.state.get('team-b/c')?.data?.password).toBe('Y2hhbmdlZA=='));
    await core.patchNamespacedSecret({ namespace: 'team-b', name: 'd', body: [{ op: 'remove', path: `/metadata/labels/${LABEL.replace('/', '~1')}` }] });
    await eventually(() => expect(view.state.has('team-b/d')).toBe(false));
    await core.deleteNamespacedSecret({ namespace: 'default', name: 'a' });
    await eventually(() => expect(view.state.has('default/a')).toBe(false));
  });

  it('reconnects a dropped watch from the last resourceVersion without re-listing', async () => {
    fake.seed([secret('default', 'a')]);
    const view = mirror();
    await start(view);
    await fake.waitForWatches();
    const lists = fake.count({ verb: 'list', resource: 'secrets' });
    fake.dropWatches();
    fake.put(secret('team-a', 'while-dropped'));
    await eventually(() => expect(view.state.has('team-a/while-dropped')).toBe(true));
    expect(fake.count({ verb: 'list', resource: 'secrets' })).toBe(lists);
    expect(restarts).toContain('error');
  });

  it('re-lists on 410 Gone and picks up what changed meanwhile', async () => {
    fake.seed([secret('default', 'a'), secret('team-a', 'b')]);
    const view = mirror();
    await start(view);
    await fake.waitForWatches();
    const before = view.replaceAlls();
    fake.dropWatches();
    fake.remove('secrets', 'default', 'a');
    fake.put(secret('team-b', 'c'));
    fake.compact();
    await eventually(() => expect([...view.state.keys()].sort()).toEqual(['team-a/b', 'team-b/c']));
    expect(view.replaceAlls()).toBeGreaterThan(before);
    expect(restarts).toContain('gone');
  });

  it('retries a failing first list with backoff and resolves start() once it succeeds', async () => {
    fake.seed([secret('default', 'a')]);
    fake.failNext({ verb: 'list', resource: 'secrets', status: 500, times: 2 });
    const view = mirror();
    await start(view);
    expect(view.state.has('default/a')).toBe(true);
    expect(reflector?.hasSynced()).toBe(true);
    expect(restarts.filter((r) => r === 'error').length).toBe(2);
  });

  it('re-lists fully every resync period', async () => {
    fake.seed([secret('default', 'a')]);
    const view = mirror();
    await start(view, 300);
    await eventually(() => expect(view.replaceAlls()).toBeGreaterThanOrEqual(3), 3000);
    expect(restarts).toContain('resync');
    expect(view.state.has('default/a')).toBe(true);
  });

  it('starts again after stop(), with a fresh list, and start() resolves again', async () => {
    fake.seed([secret('default', 'a')]);
    const view = mirror();
    await start(view);
    await reflector?.stop();
    fake.put(secret('team-a', 'while-stopped'));
    const lists = fake.count({ verb: 'list', resource: 'secrets' });
    await reflector?.start();
    expect(fake.count({ verb: 'list', resource: 'secrets' })).toBeGreaterThan(lists);
    expect(view.state.has('team-a/while-stopped')).toBe(true);
  });
});
