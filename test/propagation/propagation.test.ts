/** The controller against the fake API server: what gets copied where, and what is left alone. */
import { afterEach, describe, expect, it } from 'vitest';
import { mutateRegistrySecret } from '../../src/registry/index.js';
import type { SecretObject } from '../../src/propagation/types.js';
import { startHarness, type Harness } from './harness.js';
import {
  b64,
  baseSecret,
  CONFIG,
  dockerConfigJsonOf,
  encodedData,
  eventually,
  FINALIZER,
  NAME,
  OURS,
  OURS_VALUE,
  PLAIN,
  REMOTE,
  secretIn,
  SOURCE,
  SYSTEM_NS,
  USER_OPT_OUT,
} from './support.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

interface EventObject {
  reason: string;
  message: string;
  type: string;
  count?: number;
  involvedObject: { namespace: string; name: string; kind: string };
}

const events = () => h.server.list('events', SYSTEM_NS) as unknown as EventObject[];

describe('propagation', () => {
  it('copies the base to every existing namespace except system, excluded and terminating ones, and to new ones', async () => {
    h = await startHarness({ namespaces: ['team-a', 'team-b', 'leaving'], base: false });
    const seeded = h.put(baseSecret()) as SecretObject;
    h.server.terminateNamespace('leaving');
    const c = await h.start();
    await eventually(() => h.copies().size === 3, 5000); // default, team-a, team-b
    expect([...h.copies().keys()].sort()).toEqual(['default', 'team-a', 'team-b']);

    const copy = h.secret('team-a') as SecretObject;
    expect(copy.type).toBe(seeded.type);
    expect(copy.data).toEqual(seeded.data);
    expect(copy.metadata?.labels).toEqual({ [REMOTE]: 'config', [OURS]: OURS_VALUE });
    // The base version the content came from (the finalizer patch that follows changes only metadata).
    expect(copy.metadata?.annotations?.[SOURCE]).toBe(`${SYSTEM_NS}/${NAME}@${seeded.metadata?.resourceVersion}`);
    // Nothing was ever attempted in the terminating namespace (creating there is a 403).
    expect(h.server.count({ resource: 'secrets', namespace: 'leaving' })).toBe(0);
    expect(h.server.count({ resource: 'secrets', namespace: 'kube-system' })).toBe(0);
    expect(h.secretWrites().filter((r) => r.namespace === SYSTEM_NS && r.verb !== 'patch')).toEqual([]);

    h.server.createNamespace('team-new');
    await eventually(() => h.secret('team-new') !== undefined, 3000);
    await eventually(() => expect(c.status()).toMatchObject({ leading: true, synced: true, base: 'present', copies: 4 }), 2000);
    expect((await c.metrics.registry.getSingleMetricAsString('registry_config_webhook_propagation_copies_managed'))).toMatch(/propagation_copies_managed 4$/m);
    expect((await c.metrics.registry.getSingleMetricAsString('registry_config_webhook_propagation_is_leader'))).toMatch(/propagation_is_leader 1$/m);
  });

  it('writes copies that our webhook lets through without a patch', async () => {
    h = await startHarness({ namespaces: ['team-a'], base: baseSecret({ withDockerConfig: false }) });
    await h.start();
    await eventually(() => h.secret('team-a') !== undefined, 5000);
    const stored = h.secret('team-a') as SecretObject;
    expect(stored.data?.['.dockerconfigjson']).toBe(dockerConfigJsonOf(PLAIN));
    const review = (operation: string, object: unknown, oldObject: unknown) => ({
      uid: 'x',
      kind: { group: '', version: 'v1', kind: 'Secret' },
      namespace: 'team-a',
      name: NAME,
      operation,
      object,
      oldObject,
    });
    expect(mutateRegistrySecret(review('UPDATE', stored, stored))).toEqual({ allowed: true });
    const created = h.secretWrites().find((r) => r.verb === 'create' && r.namespace === 'team-a');
    expect(mutateRegistrySecret(review('CREATE', created?.body, null))).toEqual({ allowed: true });
  });

  it('adds its finalizer to the base', async () => {
    h = await startHarness({ namespaces: ['team-a'] });
    await h.start();
    await eventually(() => h.secret(SYSTEM_NS)?.metadata?.finalizers?.includes(FINALIZER) === true, 5000);
  });

  it('never touches a user-managed Secret, and reports it', async () => {
    h = await startHarness({ namespaces: ['team-a', 'mine'] });
    const own = h.put(secretIn('mine', { labels: { [REMOTE]: 'config', [USER_OPT_OUT]: 'user' } })) as SecretObject;
    const c = await h.start();
    await eventually(() => c.status().lastPass !== undefined, 5000);
    expect(h.server.count({ resource: 'secrets', namespace: 'mine', where: (r) => r.verb !== 'list' && r.verb !== 'watch' })).toBe(0);
    expect(h.secret('mine')?.metadata?.resourceVersion).toBe(own.metadata?.resourceVersion);
    expect(c.status().lastPass?.summary.userManaged).toEqual(['mine']);
    await eventually(() => events().some((e) => e.reason === 'Propagated' && e.message.includes('1 skipped as user-managed (mine)')), 3000);
  });

  it('takes over a same-named Secret without the opt-out, and says so', async () => {
    h = await startHarness({ namespaces: ['team-a'] });
    h.put(secretIn('team-a', { labels: { [REMOTE]: 'config', other: 'x' } }));
    const c = await h.start();
    await eventually(() => h.secret('team-a')?.metadata?.labels?.[OURS] === OURS_VALUE, 5000);
    expect(h.secret('team-a')?.data).toEqual(h.secret(SYSTEM_NS)?.data);
    expect(h.secret('team-a')?.metadata?.labels).not.toHaveProperty('other');
    await eventually(() => events().some((e) => e.reason === 'TakenOver' && e.message.includes('team-a')), 3000);
    expect(c.logs.text()).toContain('took over an existing Secret');
  });

  it("leaves another installation's copy alone", async () => {
    h = await startHarness({ namespaces: ['team-a'] });
    h.put(secretIn('team-a', { labels: { [REMOTE]: 'config', [OURS]: OURS_VALUE }, annotations: { [SOURCE]: 'other-system/serverless-registry-config@1' } }));
    const c = await h.start();
    await eventually(() => c.status().lastPass !== undefined, 5000);
    expect(h.secretWrites().filter((r) => r.namespace === 'team-a')).toEqual([]);
  });

  it('honours a custom PROPAGATION_EXCLUDE and removes its copy from a namespace that becomes excluded', async () => {
    h = await startHarness({ namespaces: ['team-a', 'sandbox'] });
    h.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sandbox', labels: { 'kubernetes.io/metadata.name': 'sandbox', env: 'sandbox' } } });
    await h.start('replica-a', { exclude: 'env in (sandbox)' });
    await eventually(() => h.secret('team-a') !== undefined, 5000);
    expect(h.secret('sandbox')).toBeUndefined();
    expect(h.secret('kube-system')).toBeDefined(); // the default exclusions were replaced
    h.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a', env: 'sandbox' } } });
    await eventually(() => h.secret('team-a') === undefined, 3000);
  });

  it('rejects an invalid PROPAGATION_EXCLUDE before doing anything', async () => {
    h = await startHarness();
    await expect(h.start('replica-a', { exclude: 'env in (a' })).rejects.toThrow(/PROPAGATION_EXCLUDE/);
    expect(h.server.requests).toHaveLength(0);
  });

  it('restores a copy that someone edited or deleted', async () => {
    h = await startHarness({ namespaces: ['team-a', 'team-b'] });
    await h.start();
    await eventually(() => h.copies().size === 3, 5000);
    const good = h.secret('team-a') as SecretObject;

    h.put({ ...good, data: { ...good.data, password: b64('tampered') } });
    await eventually(() => h.secret('team-a')?.data?.password === good.data?.password, 3000);

    h.put({ ...good, metadata: { ...good.metadata, labels: { [REMOTE]: 'config' } } }); // our label removed
    await eventually(() => h.secret('team-a')?.metadata?.labels?.[OURS] === OURS_VALUE, 3000);

    h.server.remove('secrets', 'team-b', NAME);
    await eventually(() => h.secret('team-b') !== undefined, 3000);
    expect(h.secret('team-b')?.data).toEqual(good.data);
  });

  it('stops fighting another writer over a copy after the per-namespace write budget', async () => {
    h = await startHarness({ namespaces: ['team-a', 'team-b'] });
    const c = await h.start('replica-a', { writesPerNamespacePerPeriod: 3 });
    await eventually(() => h.copies().size === 3, 5000);
    // Another controller that insists on its own password in team-a.
    const tampered = b64('the-other-writer');
    const fight = setInterval(() => {
      const s = h.secret('team-a');
      if (s && s.data?.password !== tampered) h.put({ ...s, data: { ...s.data, password: tampered } });
    }, 10);
    try {
      await eventually(() => c.logs.text().includes('write budget exhausted'), 5000);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      clearInterval(fight);
    }
    const ours = h.secretWrites('replica-a').filter((r) => r.namespace === 'team-a');
    expect(ours.map((r) => r.verb)).toEqual(['create', 'update', 'update']); // 3 writes, then it stops
    // Other namespaces are unaffected.
    h.server.createNamespace('team-c');
    await eventually(() => h.secret('team-c') !== undefined, 3000);
  });

  it('replaces a copy whose type was changed (type is immutable)', async () => {
    h = await startHarness({ namespaces: ['team-a'] });
    await h.start();
    await eventually(() => h.secret('team-a') !== undefined, 5000);
    const before = h.secret('team-a') as SecretObject;
    h.server.remove('secrets', 'team-a', NAME);
    h.put({ ...before, metadata: { ...before.metadata, uid: undefined }, type: 'Opaque' });
    await eventually(() => h.secret('team-a')?.type === before.type, 3000);
  });

  it('fans a base update out to every copy; a metadata-only change of the base writes nothing', async () => {
    h = await startHarness({ namespaces: ['team-a', 'team-b'] });
    const c = await h.start();
    await eventually(() => h.copies().size === 3 && c.status().lastPass !== undefined, 5000);
    await eventually(() => h.secret(SYSTEM_NS)?.metadata?.finalizers?.includes(FINALIZER) === true, 3000);
    await c.idle();

    const mark = h.seq();
    const base = h.secret(SYSTEM_NS) as SecretObject;
    h.put({ ...base, metadata: { ...base.metadata, annotations: { note: 'metadata only' } } });
    await new Promise((r) => setTimeout(r, 300));
    await c.idle();
    expect(h.secretWrites(undefined, mark)).toEqual([]);

    const plain = { ...PLAIN, password: 'rotated-pass' };
    const current = h.secret(SYSTEM_NS) as SecretObject;
    const updated = h.put({ ...current, data: { ...encodedData(plain), '.dockerconfigjson': dockerConfigJsonOf(plain) } }) as SecretObject;
    await eventually(() => [...h.copies().values()].every((s) => s.data?.password === b64('rotated-pass')), 3000);
    for (const copy of h.copies().values()) {
      expect(copy.metadata?.annotations?.[SOURCE]).toBe(`${SYSTEM_NS}/${NAME}@${updated.metadata?.resourceVersion}`);
    }
    expect(h.secretWrites(undefined, mark).filter((r) => r.verb === 'update')).toHaveLength(3);
    await eventually(() => events().some((e) => e.reason === 'Propagated' && e.message.includes('3 updated')), 3000);
  });

  it('summarises each pass in one Event on the base, in its namespace, without data', async () => {
    h = await startHarness({ namespaces: ['a', 'b', 'c'] });
    await h.start();
    await eventually(() => events().some((e) => e.reason === 'Propagated'), 5000);
    const summary = events().find((e) => e.reason === 'Propagated') as EventObject;
    expect(summary.involvedObject).toMatchObject({ kind: 'Secret', namespace: SYSTEM_NS, name: NAME });
    expect(summary.message).toBe('propagated to 4 namespaces (4 created, 0 updated, 0 deleted), 0 skipped as user-managed, 0 failed');
    expect(summary.type).toBe('Normal');
    const all = JSON.stringify(events());
    for (const value of Object.values(encodedData(PLAIN))) expect(all).not.toContain(value);
    expect(all).not.toContain(PLAIN.password);
  });

  it('retries a failed write with backoff and reports the failure', async () => {
    h = await startHarness({ namespaces: ['team-a', 'flaky'] });
    h.server.failNext({ resource: 'secrets', verb: 'create', namespace: 'flaky', status: 500, times: 2 });
    const c = await h.start();
    await eventually(() => h.secret('flaky') !== undefined, 5000);
    expect(c.status().lastPass?.summary.failed).toEqual(['flaky']);
    await eventually(() => events().some((e) => e.reason === 'PropagationFailed' && e.type === 'Warning' && e.message.includes('1 failed (flaky)')), 3000);
    expect((await c.metrics.registry.getSingleMetricAsString('registry_config_webhook_propagation_reconcile_errors_total'))).toMatch(/ 2$/m);
  });

  it('a namespace that starts terminating while its copy is created is not a failure', async () => {
    h = await startHarness({ namespaces: ['team-a', 'leaving'] });
    // What the API server answers once the namespace is Terminating (recorded, fact 36).
    h.server.failNext({
      resource: 'secrets',
      verb: 'create',
      namespace: 'leaving',
      status: 403,
      reason: 'Forbidden',
      message: 'secrets "serverless-registry-config" is forbidden: unable to create new content in namespace leaving because it is being terminated',
      times: 1000,
    });
    const c = await h.start();
    await h.server.waitForRequests({ resource: 'secrets', verb: 'create', namespace: 'leaving' }, 1);
    h.server.terminateNamespace('leaving');
    await eventually(() => c.status().lastPass !== undefined, 5000);
    expect(c.status().lastPass?.summary.failed).toEqual([]);
    expect(await c.metrics.registry.getSingleMetricAsString('registry_config_webhook_propagation_reconcile_errors_total')).toMatch(/ 0$/m);
  });

  it('does not propagate a base labelled like a copy, nor delete the copies for it', async () => {
    h = await startHarness({ namespaces: ['team-a'] });
    const c = await h.start();
    await eventually(() => h.secret('team-a') !== undefined, 5000);
    await c.idle();
    const mark = h.seq();
    const base = h.secret(SYSTEM_NS) as SecretObject;
    h.put({ ...base, metadata: { ...base.metadata, labels: { [REMOTE]: 'config', [CONFIG]: 'credentials', [OURS]: OURS_VALUE } }, data: { ...base.data, password: b64('x') } });
    await eventually(() => c.status().base === 'held:labelled-as-copy', 3000);
    await new Promise((r) => setTimeout(r, 200));
    await c.idle();
    expect(h.secretWrites(undefined, mark)).toEqual([]);
    expect(h.secret('team-a')).toBeDefined();
  });
});
