/**
 * The Kubernetes source against the fake API server with the real client: first list, watch
 * events, reconnects, 410 re-lists, readiness and staleness, and event-to-answer latency.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../../src/metrics/metrics.js';
import type { Resolution } from '../../../src/registry/precedence.js';
import { createRegistryConfigClient } from '../../../src/resolver/client.js';
import { createKubernetesSource } from '../../../src/resolver/kubernetes-source.js';
import { RegistryIndex } from '../../../src/resolver/registry-index.js';
import type { RegistrySecretSource } from '../../../src/resolver/source.js';
import { type FakeApiServer, startFakeApiServer } from '../../support/fake-apiserver.js';
import { captureLogs } from '../../support/log-capture.js';
import { CANARY_PASSWORD, CANARY_USERNAME, clusterSecret, DEFAULT_NAME, defaultSecret, NAME, namespaceSecret, REMOTE, SYSTEM } from '../secrets.js';
import { eventually, sourceOptions, startService, stored, withLabels, type RunningService } from './support.js';

let fake: FakeApiServer;
let running: RunningService[] = [];
let sources: RegistrySecretSource[] = [];

beforeEach(async () => {
  fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a', 'team-b', 'team-c', 'team-d', 'lat'] });
});

afterEach(async () => {
  for (const { service } of running) await service.stop();
  for (const source of sources) await source.stop();
  running = [];
  sources = [];
  await fake.close();
});

async function start(overrides: Parameters<typeof startService>[1] = {}): Promise<RunningService> {
  const started = await startService(fake, overrides);
  running.push(started);
  await fake.waitForWatches({ resource: 'secrets' }, 2);
  return started;
}

function sourceOf(resolution: Resolution): string {
  return resolution.found ? `${resolution.config.source} ${resolution.config.registryAddress}` : 'none';
}

function restarts(metrics: Metrics, reason: string): Promise<number> {
  return metrics.resolverWatchRestarts.get().then((m) => m.values.find((v) => v.labels.reason === reason)?.value ?? 0);
}

const lists = () => fake.count({ verb: 'list', resource: 'secrets' });

describe('first list', () => {
  it('holds the unlabelled default Secret and the labelled Secrets of every namespace, nothing else', async () => {
    fake.seed([
      stored(defaultSecret()),
      stored(namespaceSecret('team-a')),
      stored(namespaceSecret('team-b', { userManaged: true })),
      stored(clusterSecret()),
      // Not ours: the right name without the label, another name, a default-named Secret elsewhere.
      stored(withLabels(namespaceSecret('team-c'), {})),
      stored(namespaceSecret('team-a', { name: 'something-else' })),
      stored(defaultSecret({ namespace: 'team-d' })),
    ]);
    const { service, source } = await start();

    expect(source.readiness()).toEqual({ ok: true });
    expect(service.index.size()).toEqual({ secrets: 4, namespaces: 2 });
    expect(sourceOf(service.index.resolve('team-a'))).toBe('cluster cluster.registry.example.com/kyma');
    expect(sourceOf(service.index.resolve('team-b'))).toBe('namespace team-b.registry.example.com/kyma');
    expect(sourceOf(service.index.resolve('team-c'))).toBe('cluster cluster.registry.example.com/kyma');
    fake.remove('secrets', SYSTEM, NAME);
    await eventually(() => expect(sourceOf(service.index.resolve('team-c'))).toBe('default localhost:32137'));
    expect(sourceOf(service.index.resolve('team-d'))).toBe('default localhost:32137');

    // One label-selected list across namespaces, one by-name list in the system namespace, each followed by its watch.
    const secretRequests = fake.requests.filter((r) => r.resource === 'secrets');
    expect(secretRequests.map((r) => [r.verb, r.namespace ?? '*', r.query.labelSelector ?? r.query.fieldSelector])).toEqual(
      expect.arrayContaining([
        ['list', '*', `${REMOTE}=config`],
        ['watch', '*', `${REMOTE}=config`],
        ['list', SYSTEM, `metadata.name=${DEFAULT_NAME}`],
        ['watch', SYSTEM, `metadata.name=${DEFAULT_NAME}`],
      ]),
    );
    expect(secretRequests.filter((r) => r.verb === 'watch').every((r) => r.query.allowWatchBookmarks === 'true' && r.query.resourceVersion !== '')).toBe(true);
  });

  it('logs Secret names, never their contents', async () => {
    const capture = captureLogs('trace');
    fake.seed([stored(defaultSecret()), stored(namespaceSecret('team-a'))]);
    const { service } = await start({ log: capture.log });
    fake.put(stored(namespaceSecret('team-a', { plain: { serverAddress: 'changed.example.com' } })));
    await eventually(() => expect(service.index.resolve('team-a')).toMatchObject({ found: true, config: { serverAddress: 'changed.example.com' } }));
    expect(capture.text()).toContain('team-a');
    for (const value of [CANARY_PASSWORD, CANARY_USERNAME, Buffer.from(CANARY_PASSWORD).toString('base64')]) expect(capture.text()).not.toContain(value);
  });
});

describe('watch events', () => {
  it('applies creates, updates, relabels and deletes; answers fall back as Secrets go', async () => {
    fake.seed([stored(defaultSecret()), stored(namespaceSecret('team-a'))]);
    const { service } = await start();
    const { index } = service;
    expect(sourceOf(index.resolve('team-d'))).toBe('default localhost:32137');

    fake.put(stored(namespaceSecret('team-d')));
    await eventually(() => expect(sourceOf(index.resolve('team-d'))).toBe('namespace team-d.registry.example.com/kyma'));

    const before = index.resolve('team-d');
    fake.put(stored(namespaceSecret('team-d', { plain: { registryAddress: 'moved.example.com/kyma' } })));
    await eventually(() => expect(sourceOf(index.resolve('team-d'))).toBe('namespace moved.example.com/kyma'));
    const after = index.resolve('team-d');
    expect(after.found && before.found && after.config.revision !== before.config.revision).toBe(true);

    // The label goes: the label-selected watch reports DELETED, the namespace falls back to the default.
    fake.put(stored(withLabels(namespaceSecret('team-a'), { unrelated: 'yes' })));
    await eventually(() => expect(sourceOf(index.resolve('team-a'))).toBe('default localhost:32137'));
    fake.put(stored(namespaceSecret('team-a')));
    await eventually(() => expect(sourceOf(index.resolve('team-a'))).toBe('namespace team-a.registry.example.com/kyma'));

    fake.remove('secrets', 'team-d', NAME);
    await eventually(() => expect(sourceOf(index.resolve('team-d'))).toBe('default localhost:32137'));
    fake.remove('secrets', SYSTEM, DEFAULT_NAME);
    await eventually(() => expect(sourceOf(index.resolve('team-d'))).toBe('none'));
    expect(sourceOf(index.resolve('team-a'))).toBe('namespace team-a.registry.example.com/kyma');
  });

  it('a default Secret that is also labelled: one entry, and losing the label does not drop it, not even on a re-list', async () => {
    fake.seed([stored(withLabels(defaultSecret(), { [REMOTE]: 'config' }))]);
    const { service } = await start({ resyncPeriodMs: 100 });
    const { index } = service;
    expect(index.size().secrets).toBe(1);
    expect(sourceOf(index.resolve('team-a'))).toBe('default localhost:32137');
    // Not even for a moment may the answer flicker (whichever watch reports first, whichever reflector re-lists).
    const heard: string[] = [];
    index.subscribe('team-a', (resolution) => heard.push(sourceOf(resolution)));

    const relabelled = fake.put(stored(defaultSecret({ plain: { registryAddress: 'relabelled:5000' } })));
    await eventually(() => expect(sourceOf(index.resolve('team-a'))).toBe('default relabelled:5000'));
    const listsBefore = lists();
    await eventually(() => expect(lists()).toBeGreaterThanOrEqual(listsBefore + 2)); // both reflectors re-listed
    expect(index.size().secrets).toBe(1);
    const resolution = index.resolve('team-a');
    expect(resolution.found && resolution.config.revision).toBe(`${relabelled.metadata?.uid}:${relabelled.metadata?.resourceVersion}`);
    expect(heard).toEqual(['default relabelled:5000']);

    fake.remove('secrets', SYSTEM, DEFAULT_NAME);
    await eventually(() => expect(sourceOf(index.resolve('team-a'))).toBe('none'));
    expect(index.size().secrets).toBe(0);
  });

  it('re-lists every resync period; an unchanged index tells subscribers nothing', async () => {
    const metrics = createMetrics({ processMetrics: false });
    fake.seed([stored(defaultSecret()), stored(namespaceSecret('team-a'))]);
    const { service } = await start({ resyncPeriodMs: 100, metrics });
    const heard: Resolution[] = [];
    service.index.subscribe('team-a', (resolution) => heard.push(resolution));
    const listsBefore = lists();
    await eventually(() => expect(lists()).toBeGreaterThanOrEqual(listsBefore + 4));
    expect(await restarts(metrics, 'resync')).toBeGreaterThanOrEqual(4);
    expect(heard).toEqual([]);
    expect(sourceOf(service.index.resolve('team-a'))).toBe('namespace team-a.registry.example.com/kyma');
  });
});

describe('lost connections', () => {
  it('a dropped watch reconnects from its resourceVersion: missed and later events arrive, no re-list', async () => {
    const metrics = createMetrics({ processMetrics: false });
    fake.seed([stored(defaultSecret())]);
    const { service } = await start({ metrics });
    const listsBefore = lists();

    fake.dropWatches();
    fake.put(stored(namespaceSecret('team-a'))); // while disconnected
    await fake.waitForWatches({ resource: 'secrets' }, 2);
    await eventually(() => expect(sourceOf(service.index.resolve('team-a'))).toBe('namespace team-a.registry.example.com/kyma'));
    fake.put(stored(namespaceSecret('team-b')));
    await eventually(() => expect(sourceOf(service.index.resolve('team-b'))).toBe('namespace team-b.registry.example.com/kyma'));

    expect(lists()).toBe(listsBefore);
    expect(await restarts(metrics, 'error')).toBe(2);
    expect(service.readiness()).toEqual({ ok: true });
  });

  it('410 Gone: an expired resourceVersion re-lists, and a change made while disconnected is picked up', async () => {
    const metrics = createMetrics({ processMetrics: false });
    fake.seed([stored(defaultSecret()), stored(namespaceSecret('team-a')), stored(namespaceSecret('team-b'))]);
    const { service } = await start({ metrics });
    const listsBefore = lists();

    fake.dropWatches();
    fake.remove('secrets', 'team-b', NAME); // a DELETED nobody will replay: history is compacted next
    fake.put(stored(namespaceSecret('team-a', { plain: { registryAddress: 'while-away.example.com/kyma' } })));
    fake.compact();

    await eventually(() => expect(sourceOf(service.index.resolve('team-a'))).toBe('namespace while-away.example.com/kyma'));
    await eventually(() => expect(sourceOf(service.index.resolve('team-b'))).toBe('default localhost:32137'));
    // Both reflectors' resourceVersions expired: each re-lists once (after its reconnect backoff).
    await eventually(async () => expect([lists(), await restarts(metrics, 'gone')]).toEqual([listsBefore + 2, 2]));
    await fake.waitForWatches({ resource: 'secrets' }, 2);
    fake.put(stored(namespaceSecret('team-c')));
    await eventually(() => expect(sourceOf(service.index.resolve('team-c'))).toBe('namespace team-c.registry.example.com/kyma'));
  });
});

describe('readiness', () => {
  it('is false until both first lists are in, then true', async () => {
    const metrics = createMetrics({ processMetrics: false });
    fake.seed([stored(defaultSecret())]);
    // The first list fails slowly; the reflector retries with backoff.
    fake.failNext({ verb: 'list', resource: 'secrets', namespace: SYSTEM, status: 500, delayMs: 150 });
    const source = createKubernetesSource(sourceOptions(fake, { metrics }));
    sources.push(source);
    const index = new RegistryIndex({ systemNamespace: SYSTEM });
    let synced = false;
    const started = source.start(index).then(() => {
      synced = true;
    });

    expect(source.readiness()).toMatchObject({ ok: false, reason: expect.stringMatching(/^waiting for first list/) });
    await eventually(() => expect(fake.count({ verb: 'list', resource: 'secrets', namespace: SYSTEM })).toBe(1));
    expect(synced).toBe(false);
    expect(source.readiness().ok).toBe(false);
    await started;
    expect(source.readiness()).toEqual({ ok: true });
    expect(fake.count({ verb: 'list', resource: 'secrets', namespace: SYSTEM })).toBe(2);
    expect(await restarts(metrics, 'error')).toBe(1);
    expect(sourceOf(index.resolve('team-a'))).toBe('default localhost:32137');
  });

  it('a stop before the first list ends start() instead of leaving it waiting', async () => {
    fake.failNext({ verb: 'list', resource: 'secrets', status: 503, times: 1000 });
    const source = createKubernetesSource(sourceOptions(fake));
    const started = source.start(new RegistryIndex({ systemNamespace: SYSTEM }));
    await fake.waitForRequests({ verb: 'list', resource: 'secrets' }, 3);
    await source.stop();
    await expect(started).rejects.toThrow(/stopped before its first list/);
    expect(source.readiness()).toEqual({ ok: false, reason: 'stopped' });
  });

  it('goes false when a feed is silent longer than maxStaleness, and true again on activity (bookmark or event)', async () => {
    let clock = 1_000_000;
    fake.seed([stored(defaultSecret()), stored(namespaceSecret('team-a'))]);
    const { source } = await start({ now: () => clock, maxStalenessMs: 1000 });
    expect(source.readiness()).toEqual({ ok: true });

    clock += 1001;
    expect(source.readiness()).toMatchObject({ ok: false, reason: expect.stringMatching(/no watch event or list for 1 s/) });
    fake.bookmark();
    await eventually(() => expect(source.readiness()).toEqual({ ok: true }));

    clock += 1001;
    // An event on the labelled feed alone: the default Secret's feed is still silent.
    fake.put(stored(namespaceSecret('team-b')));
    await eventually(() => expect(source.readiness().reason).toMatch(new RegExp(`no watch event.*${DEFAULT_NAME}`)));
    fake.put(stored(defaultSecret({ plain: { registryAddress: 'touched:5000' } })));
    await eventually(() => expect(source.readiness()).toEqual({ ok: true }));
  });
});

describe('latency', () => {
  /** Writes to the fake one after another; `changed` must resolve when the new answer has arrived. */
  async function measure(what: string, writes: number, changed: () => Promise<void>): Promise<number> {
    const samples: number[] = [];
    for (let i = 0; i < writes; i++) {
      const arrived = changed();
      const writtenAt = performance.now();
      fake.put(stored(namespaceSecret('lat', { plain: { registryAddress: `r${i}.example.com/kyma` } })));
      await arrived;
      samples.push(performance.now() - writtenAt);
    }
    samples.sort((a, b) => a - b);
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)] ?? Number.NaN;
    console.log(`${what} over ${samples.length} writes: p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, max ${at(1).toFixed(2)} ms`);
    return at(0.99);
  }

  it('a write reaches an index subscriber well within a second', async () => {
    fake.seed([stored(defaultSecret())]);
    const { service } = await start();
    const p99 = await measure('API server event -> index subscriber', 100, () => new Promise<void>((resolve) => {
      const unsubscribe = service.index.subscribe('lat', () => {
        unsubscribe();
        resolve();
      });
    }));
    expect(p99).toBeLessThan(250);
  });

  it('a write reaches a resolver API watcher (HTTP NDJSON, the package client) well within a second', async () => {
    fake.seed([stored(defaultSecret())]);
    const { service } = await start();
    const app = Fastify({ logger: false });
    service.routes(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const client = createRegistryConfigClient({ url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` });
    let next: (() => void) | undefined;
    let received = 0;
    const watch = client.watch('lat', () => {
      received++;
      next?.();
    });
    try {
      await eventually(() => expect(received).toBe(1)); // the current answer, before any write
      const p99 = await measure('API server event -> resolver API watcher', 50, () => new Promise<void>((resolve) => {
        next = resolve;
      }));
      expect(p99).toBeLessThan(250);
    } finally {
      watch.close();
      client.close();
      await app.close();
    }
  });
});
