/** 1,000 namespaces: API calls are counted, and a pass over an unchanged cluster writes nothing. */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { eventually, SYSTEM_NS } from './support.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const N = 1000;
const WRITE_VERBS = ['create', 'update', 'patch', 'delete'];

describe('at scale', () => {
  it(`reconciles ${N} namespaces with one create each and a constant number of other calls; a second pass writes nothing`, async () => {
    h = await startHarness({ namespaces: Array.from({ length: N }, (_, i) => `ns-${String(i).padStart(4, '0')}`) });
    const c = await h.start('replica-a', { resyncPeriodMs: 60_000 });
    await eventually(() => c.status().lastPass?.trigger === 'leadership', 15_000);
    await c.idle();

    const secretCalls = h.server.requests.filter((r) => r.resource === 'secrets');
    const byVerb = (verb: string) => secretCalls.filter((r) => r.verb === verb).length;
    const copies = N + 1; // and `default`
    expect(byVerb('create')).toBe(copies);
    expect(byVerb('update')).toBe(0);
    expect(byVerb('delete')).toBe(0);
    expect(byVerb('patch')).toBe(1); // the finalizer on the base
    expect(byVerb('get')).toBe(0); // reconciles read the cache, never the API
    expect(byVerb('list')).toBe(1); // one field-selected list
    expect(byVerb('watch')).toBe(1);
    expect(h.server.count({ resource: 'namespaces', verb: 'list' })).toBe(3); // 1,005 namespaces in pages of 500
    expect(h.server.count({ resource: 'namespaces', verb: 'watch' })).toBe(1);
    expect(h.server.count({ resource: 'events', verb: 'create' })).toBe(1); // one summary, not one per namespace
    expect(h.copies().size).toBe(copies);
    expect(c.status().lastPass?.summary).toMatchObject({ propagated: copies, created: copies, failed: [] });

    // A second full pass over the unchanged cluster: every namespace compared, nothing written.
    const mark = h.seq();
    c.resync();
    await eventually(() => c.status().lastPass?.trigger === 'requested', 10_000);
    await c.idle();
    const later = h.server.requests.filter((r) => r.seq > mark && r.resource !== 'leases');
    expect(later.filter((r) => WRITE_VERBS.includes(r.verb ?? ''))).toEqual([]);
    expect(c.status().lastPass?.summary).toMatchObject({ propagated: copies, created: 0, updated: 0, changed: false });
    expect(h.server.list('events', SYSTEM_NS)).toHaveLength(1); // no Event for a pass that changed nothing
  }, 30_000);

  it('runs a full pass every resync period (re-listing first), writing nothing when nothing changed', async () => {
    h = await startHarness({ namespaces: ['a', 'b'] });
    const c = await h.start('replica-a', { resyncPeriodMs: 1000 });
    await eventually(() => c.status().lastPass?.trigger === 'leadership', 5000);
    await c.idle(); // includes the summary Event
    const mark = h.seq();
    // Two resync passes finish after the mark: the second surely started (and re-listed) after it,
    // even where load let one start before the mark.
    for (let i = 0; i < 2; i++) {
      const before = c.status().lastPass;
      await eventually(() => c.status().lastPass !== before && c.status().lastPass?.trigger === 'resync', 6000);
    }
    await c.idle();
    const later = h.server.requests.filter((r) => r.seq > mark && r.resource !== 'leases');
    expect(later.filter((r) => WRITE_VERBS.includes(r.verb ?? ''))).toEqual([]);
    expect(later.filter((r) => r.resource === 'secrets' && r.verb === 'list').length).toBeGreaterThanOrEqual(1);
  });
});
