/** Several replicas: only the leader writes; a stopped or cut-off leader is replaced. */
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_LEASE, startHarness, type Controller, type Harness } from './harness.js';
import { eventually, SYSTEM_NS } from './support.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const leaderOf = (controllers: Controller[]) => controllers.filter((c) => c.status().leading);

describe('leader election', () => {
  it('two controllers racing: only the leader writes, the follower keeps its caches warm', async () => {
    h = await startHarness({ namespaces: ['a', 'b', 'c', 'd'] });
    // A lease that a loaded CI machine's event loop cannot miss a renewal of: this test is about who
    // writes, not how fast a leader is replaced (the tests below are).
    const lease = { ...FAST_LEASE, durationMs: 2500, renewDeadlineMs: 1500 };
    const [x, y] = await Promise.all([h.start('replica-x', { lease }), h.start('replica-y', { lease })]);
    await eventually(() => h.copies().size === 5, 5000);
    await eventually(() => x.status().synced && y.status().synced, 2000);
    h.server.createNamespace('late');
    await eventually(() => h.secret('late') !== undefined, 3000);
    await new Promise((r) => setTimeout(r, 2700)); // past a lease duration: renewals keep one leader
    const leaders = leaderOf([x, y]);
    expect(leaders).toHaveLength(1);
    const leader = leaders[0] as Controller;
    const follower = leader === x ? y : x;
    expect(h.secretWrites(follower.identity)).toEqual([]);
    expect(h.server.count({ resource: 'events', verb: 'create', where: (r) => String(r.headers['user-agent']).includes(follower.identity) })).toBe(0);
    expect(h.secretWrites(leader.identity).filter((r) => r.verb === 'create')).toHaveLength(6); // 5 + late
    expect(follower.status()).toMatchObject({ leading: false, leader: leader.identity, synced: true, copies: 6, queueDepth: 0 });
    expect(await follower.metrics.registry.getSingleMetricAsString('registry_config_webhook_propagation_is_leader')).toMatch(/ 0$/m);
  });

  it('a stopped leader hands over at once; the successor carries on', async () => {
    h = await startHarness({ namespaces: ['a', 'b'] });
    const slowLease = { lease: { name: 'lease', namespace: SYSTEM_NS, durationMs: 4000, renewDeadlineMs: 2000, retryPeriodMs: 100 } };
    const first = await h.start('replica-1', slowLease);
    await eventually(() => first.status().leading && h.copies().size === 3, 5000);
    const second = await h.start('replica-2', slowLease);
    await eventually(() => second.status().synced && second.status().leader === 'replica-1', 3000);

    const stoppedAt = Date.now();
    await first.stop();
    await eventually(() => second.status().leading, 3000);
    expect(Date.now() - stoppedAt).toBeLessThan(2000); // released: no waiting for the 4 s lease to expire

    const mark = h.seq();
    h.server.createNamespace('after-handover');
    await eventually(() => h.secret('after-handover') !== undefined, 3000);
    expect(h.secretWrites('replica-1', mark)).toEqual([]);
    expect(h.secretWrites('replica-2', mark).map((r) => `${r.verb} ${r.namespace}`)).toEqual(['create after-handover']);
  });

  it('a leader cut off from the API server stops writing before the other takes over', async () => {
    h = await startHarness({ namespaces: ['a'] });
    const first = await h.start('replica-1', { lease: FAST_LEASE });
    await eventually(() => first.status().leading && h.copies().size === 2, 5000);
    const second = await h.start('replica-2', { lease: FAST_LEASE });
    await eventually(() => second.status().leader === 'replica-1', 3000);

    // replica-1 can no longer renew (its Lease requests fail); everything else still works for it.
    h.server.failNext({ resource: 'leases', where: (r) => String(r.headers['user-agent']).includes('(replica-1)'), status: 503, times: 10_000 });
    await eventually(() => !first.status().leading, 2000);
    expect(second.status().leading).toBe(false);
    await eventually(() => second.status().leading, 3000);

    const mark = h.seq();
    h.server.createNamespace('after-takeover');
    await eventually(() => h.secret('after-takeover') !== undefined, 3000);
    expect(h.secretWrites('replica-1', mark)).toEqual([]);
    expect(first.status()).toMatchObject({ leading: false, queueDepth: 0 });
  });
});
