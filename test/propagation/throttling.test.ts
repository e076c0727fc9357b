/**
 * Propagation against an API server that pushes back: API Priority and Fairness with a few seats
 * answers the recorded 429 (text/plain, Retry-After) to writes past them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../support/fake-apiserver.js';
import { startHarness, type Harness } from './harness.js';
import { eventually } from './support.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const names = (n: number) => Array.from({ length: n }, (_, i) => `ns-${String(i).padStart(3, '0')}`);
/** Secret writes fall into the limited priority level; lists, watches and the Lease do not (as with the built-in FlowSchemas). */
const isSecretWrite = (r: RecordedRequest) => r.resource === 'secrets' && ['create', 'update', 'delete', 'patch'].includes(r.verb ?? '');

/** Sum of a metric's samples (for a histogram: of the samples named `sample`, e.g. its `_count`). */
async function metric(controller: Awaited<ReturnType<Harness['start']>>, name: string, sample = name): Promise<number> {
  const found = (await controller.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (found?.values ?? []).filter((v) => (v as { metricName?: string }).metricName === undefined || (v as { metricName?: string }).metricName === sample).reduce((sum, v) => sum + v.value, 0);
}

describe('propagation under API Priority and Fairness', () => {
  it('slows down on 429, retries each rejected write after Retry-After, and writes every copy exactly once', async () => {
    const N = 150;
    h = await startHarness({
      namespaces: names(N),
      apiserver: { latencyMs: 15, priorityAndFairness: { seats: 3, where: isSecretWrite } },
    });
    const c = await h.start('replica-a', { concurrency: 16 });
    await eventually(() => c.status().lastPass?.trigger === 'leadership', 25_000);
    await c.idle();

    const copies = N + 1; // and `default`
    expect(h.copies().size).toBe(copies);
    const creates = h.server.requests.filter((r) => r.resource === 'secrets' && r.verb === 'create' && r.name === undefined);
    const accepted = creates.filter((r) => r.status === 201);
    const rejected = creates.filter((r) => r.status === 429);
    // Every namespace got exactly one successful create: a rejected write wrote nothing and was not repeated after success.
    expect(accepted).toHaveLength(copies);
    expect(new Set(accepted.map((r) => r.namespace)).size).toBe(copies);
    expect(rejected.length).toBeGreaterThan(0);
    // It slowed down: with 16 in flight against 3 seats and no adaptation, most writes of every round would be turned away.
    expect(rejected.length).toBeLessThan(copies / 2);
    expect(await metric(c, 'registry_config_webhook_propagation_write_concurrency')).toBeLessThan(16);
    expect(await metric(c, 'registry_config_webhook_propagation_throttled_total')).toBe(h.server.priorityLevel?.rejected);

    // Each rejected namespace came back no sooner than the Retry-After (1 s) it was given.
    for (const r of rejected) {
      const next = creates.find((later) => later.seq > r.seq && later.namespace === r.namespace);
      expect(next, `a retry for ${r.namespace}`).toBeDefined();
      expect((next?.receivedAt ?? 0) - r.receivedAt).toBeGreaterThanOrEqual(990);
    }
    // 429s are not failures: no error counted, the pass reports every namespace propagated.
    expect(await metric(c, 'propagation_reconcile_errors_total')).toBe(0);
    expect(c.status().lastPass?.summary).toMatchObject({ propagated: copies, created: copies, failed: [] });
    // Every write's answer was timed, 429s included.
    const timed = await metric(c, 'registry_config_webhook_propagation_write_duration_seconds', 'registry_config_webhook_propagation_write_duration_seconds_count');
    expect(timed).toBe(h.server.requests.filter(isSecretWrite).length);
  }, 30_000);

  it('keeps under the optional writes-per-second ceiling (a burst of one second, then the rate)', async () => {
    h = await startHarness({ namespaces: names(79) });
    const started = Date.now();
    const c = await h.start('replica-a', { concurrency: 16, writesPerSecond: 40 });
    await eventually(() => c.status().lastPass?.trigger === 'leadership', 15_000);
    await c.idle();
    const writes = h.secretWrites('replica-a');
    expect(writes).toHaveLength(81); // 80 creates and the finalizer
    // 40 at once, the other 41 at 40/s: at least a second.
    const first = writes[0]?.receivedAt ?? 0;
    expect((writes.at(-1)?.receivedAt ?? 0) - first).toBeGreaterThanOrEqual(950);
    expect(first).toBeGreaterThanOrEqual(started);
  }, 20_000);
});
