/** Removing the base removes every copy it made: live, after a restart, and when the base is unlabelled. */
import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { SecretObject } from '../../src/propagation/types.js';
import { startHarness, type Harness } from './harness.js';
import { eventually, FINALIZER, NAME, OURS, OURS_VALUE, REMOTE, secretIn, SOURCE, SYSTEM_NS, USER_OPT_OUT } from './support.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** Deletes the base the way `kubectl delete` does (through the API, so finalizers hold it). */
async function deleteBase(): Promise<void> {
  await h.server.kubeConfig().makeApiClient(CoreV1Api).deleteNamespacedSecret({ namespace: SYSTEM_NS, name: NAME });
}

async function propagated(namespaces: number): Promise<void> {
  await eventually(() => h.copies().size === namespaces && h.secret(SYSTEM_NS)?.metadata?.finalizers?.includes(FINALIZER) === true, 5000);
}

describe('cleanup', () => {
  it('deleting the base deletes every copy, then releases the base', async () => {
    h = await startHarness({ namespaces: ['team-a', 'team-b', 'mine', 'stranger'] });
    h.put(secretIn('mine', { labels: { [REMOTE]: 'config', [USER_OPT_OUT]: 'user' } }));
    h.put(secretIn('stranger', { labels: { [REMOTE]: 'config' } }));
    await h.start();
    await propagated(4); // default, team-a, team-b, stranger (taken over)
    h.server.remove('secrets', 'stranger', NAME); // someone replaces the copy with their own...
    h.put(secretIn('stranger', { labels: { [REMOTE]: 'config' }, uid: 'uid-stranger-2' }));
    await eventually(() => h.secret('stranger')?.metadata?.labels?.[OURS] === OURS_VALUE, 3000); // ...and it is taken over again

    await deleteBase();
    expect(h.secret(SYSTEM_NS)?.metadata?.deletionTimestamp).toBeDefined(); // held by our finalizer
    await eventually(() => h.secret(SYSTEM_NS) === undefined, 5000);
    expect(h.copies().size).toBe(0);
    expect(h.secret('mine')).toBeDefined(); // user-managed: never touched
    const deletes = h.secretWrites('replica-a').filter((r) => r.verb === 'delete');
    expect(deletes.map((r) => r.namespace).sort()).toEqual(['default', 'stranger', 'team-a', 'team-b']);
    // Each delete names the exact object: a copy recreated meanwhile by someone else is not removed blindly.
    for (const d of deletes) expect((d.body as { preconditions?: { uid?: string } }).preconditions?.uid).toBeTruthy();
  });

  it('a base deleted while the controller was down is cleaned up on the next start', async () => {
    h = await startHarness({ namespaces: ['team-a', 'team-b'] });
    const first = await h.start('replica-a');
    await propagated(3);
    await first.stop();

    await deleteBase(); // nobody is running: the finalizer keeps the base Terminating
    await new Promise((r) => setTimeout(r, 100));
    expect(h.secret(SYSTEM_NS)?.metadata?.deletionTimestamp).toBeDefined();
    expect(h.copies().size).toBe(3);

    const mark = h.seq();
    await h.start('replica-b');
    await eventually(() => h.secret(SYSTEM_NS) === undefined && h.copies().size === 0, 5000);
    expect(h.secretWrites('replica-b', mark).filter((r) => r.verb === 'create')).toEqual([]);
  });

  it('copies of a base that vanished without its finalizer (removed by force) are deleted on start', async () => {
    h = await startHarness({ namespaces: ['team-a'] });
    const first = await h.start();
    await propagated(2);
    await first.stop();
    h.server.remove('secrets', SYSTEM_NS, NAME); // etcd-level removal: no finalizer honoured
    h.put(secretIn('other-ns-copy-of-someone', { labels: { [REMOTE]: 'config' } }));
    await h.start('replica-b');
    await eventually(() => h.copies().size === 0, 5000);
  });

  it('a base that loses its labels counts as deleted: copies go, the finalizer goes, the Secret stays', async () => {
    h = await startHarness({ namespaces: ['team-a', 'team-b'] });
    const c = await h.start();
    await propagated(3);
    const base = h.secret(SYSTEM_NS) as SecretObject;
    h.put({ ...base, metadata: { ...base.metadata, labels: {} } });
    await eventually(() => h.copies().size === 0, 5000);
    await eventually(() => h.secret(SYSTEM_NS)?.metadata?.finalizers === undefined, 3000);
    expect(h.secret(SYSTEM_NS)).toBeDefined();
    expect(c.status().base).toBe('absent:unlabelled');

    // Labelled again: propagated again.
    const bare = h.secret(SYSTEM_NS) as SecretObject;
    h.put({ ...bare, metadata: { ...bare.metadata, labels: base.metadata?.labels } });
    await propagated(3);
  });

  it('keeps trying a copy it cannot delete, holds the base until then, and says why', async () => {
    h = await startHarness({ namespaces: ['team-a', 'stuck'] });
    await h.start();
    await propagated(3);
    h.server.failNext({ resource: 'secrets', verb: 'delete', namespace: 'stuck', status: 500, times: 3 });
    await deleteBase();
    await eventually(
      () => h.server.list<{ reason: string; message: string }>('events', SYSTEM_NS).some((e) => e.reason === 'CleanupFailed' && e.message.includes('stuck')),
      5000,
    );
    expect(h.secret(SYSTEM_NS)).toBeDefined();
    await eventually(() => h.secret(SYSTEM_NS) === undefined && h.copies().size === 0, 5000);
    expect(h.server.count({ resource: 'secrets', verb: 'delete', namespace: 'stuck' })).toBe(4);
  });

  it("does not delete another installation's copies or Secrets it did not create", async () => {
    h = await startHarness({ namespaces: ['foreign', 'plain'] });
    h.put(secretIn('foreign', { labels: { [REMOTE]: 'config', [OURS]: OURS_VALUE }, annotations: { [SOURCE]: 'elsewhere/serverless-registry-config@1' } }));
    h.server.remove('secrets', SYSTEM_NS, NAME);
    const c = await h.start();
    await eventually(() => c.status().lastPass !== undefined, 5000);
    h.put(secretIn('plain'));
    await new Promise((r) => setTimeout(r, 200));
    await c.idle();
    expect(h.secret('foreign')).toBeDefined();
    expect(h.secret('plain')).toBeDefined();
    expect(h.secretWrites()).toEqual([]);
  });
});
