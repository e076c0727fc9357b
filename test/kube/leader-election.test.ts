import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { V1MicroTime } from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { LeaderElector, type LeaderElectorOptions } from '../../src/kube/leader-election.js';
import { formatMicroTime, microTime, parseMicroTime } from '../../src/kube/micro-time.js';
import { startFakeApiServer, type FakeApiServer, type RecordedRequest } from '../support/fake-apiserver.js';
import { captureLogs } from '../support/log-capture.js';
import { eventually } from '../propagation/support.js';

const SIX_DIGITS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

describe('MicroTime', () => {
  it('formats with exactly six fractional digits, in UTC', () => {
    expect(formatMicroTime(new Date('2026-11-27T18:07:21.014Z'))).toBe('2026-11-27T18:07:21.014000Z');
    expect(formatMicroTime(Date.UTC(2026, 0, 1))).toBe('2026-01-01T00:00:00.000000Z');
  });

  it('parses what the server returns (string) and what client-node makes of Time fields (Date)', () => {
    expect(parseMicroTime('2026-11-27T18:07:21.014123Z')).toBe(Date.UTC(2026, 10, 27, 18, 7, 21, 14));
    expect(parseMicroTime(new Date(5))).toBe(5);
    expect(parseMicroTime('yesterday')).toBeUndefined();
    expect(parseMicroTime(undefined)).toBeUndefined();
  });

  it("reaches the wire with six digits through client-node's serializer (a plain Date would not)", () => {
    const at = new Date('2026-11-27T18:07:22.263Z');
    const serialize = (t: unknown) =>
      JSON.parse(JSON.stringify(ObjectSerializer.serialize({ spec: { renewTime: t } }, 'V1Lease', ''))) as { spec: { renewTime: string } };
    expect(serialize(microTime(at)).spec.renewTime).toBe('2026-11-27T18:07:22.263000Z');
    // What the recorded 400 was about: Date -> toISOString -> three digits.
    expect(serialize(at).spec.renewTime).toBe('2026-11-27T18:07:22.263Z');
    // client-node's own class pads too; we do not rely on it.
    expect(serialize(new V1MicroTime(at.getTime())).spec.renewTime).toBe('2026-11-27T18:07:22.263000Z');
  });
});

const LEASE = { namespace: 'default', name: 'propagation-leader' };
const FAST = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 200 };

describe('LeaderElector against the fake API server', () => {
  let server: FakeApiServer;
  const electors: LeaderElector[] = [];
  const logs = captureLogs('warn');

  beforeEach(async () => {
    server = await startFakeApiServer();
  });

  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop()));
    await server.close();
  });

  function elector(identity: string, overrides: Partial<LeaderElectorOptions> = {}) {
    const events: string[] = [];
    const gauge = { value: -1, set(v: number) { this.value = v; } };
    const e = new LeaderElector({
      kubeConfig: server.kubeConfig(),
      ...LEASE,
      identity,
      ...FAST,
      log: logs.log,
      isLeaderGauge: gauge,
      onStartedLeading: () => events.push('started'),
      onStoppedLeading: () => void events.push('stopped'),
      ...overrides,
    });
    electors.push(e);
    return { e, events, gauge };
  }

  const lease = () => server.get<{ spec: Record<string, unknown>; metadata: { resourceVersion: string } }>('leases', LEASE.namespace, LEASE.name);
  const leaseWrites = (identity?: string) =>
    server.requests.filter(
      (r: RecordedRequest) =>
        r.resource === 'leases' && (r.verb === 'create' || r.verb === 'update') && (identity === undefined || String(r.headers['user-agent']).includes(identity)),
    );

  it('creates an absent Lease, holds it with six-digit MicroTimes, and renews it', async () => {
    const a = elector('replica-a');
    a.e.start();
    await eventually(() => a.e.isLeader(), 3000);
    expect(a.events).toEqual(['started']);
    expect(a.gauge.value).toBe(1);
    const created = lease();
    expect(created?.spec).toMatchObject({ holderIdentity: 'replica-a', leaseDurationSeconds: 1, leaseTransitions: 0 });
    for (const r of leaseWrites()) {
      const spec = (r.body as { spec: Record<string, string> }).spec;
      expect(spec.renewTime).toMatch(SIX_DIGITS);
      expect(spec.acquireTime).toMatch(SIX_DIGITS);
      expect(r.status).toBeLessThan(300);
    }
    const firstRenew = created?.spec.renewTime;
    await eventually(() => lease()?.spec.renewTime !== firstRenew, 2000);
    expect(lease()?.spec.acquireTime).toBe(created?.spec.acquireTime); // renewals keep acquireTime
    expect(leaseWrites().every((r) => r.status !== undefined && r.status < 300)).toBe(true);
  });

  it('two candidates: exactly one leads, the other waits', async () => {
    const a = elector('replica-a');
    const b = elector('replica-b');
    a.e.start();
    b.e.start();
    await eventually(() => a.e.isLeader() || b.e.isLeader(), 3000);
    await new Promise((r) => setTimeout(r, 1500)); // longer than the lease: renewals keep it
    expect([a.e.isLeader(), b.e.isLeader()].filter(Boolean)).toHaveLength(1);
    const leader = a.e.isLeader() ? 'replica-a' : 'replica-b';
    expect(lease()?.spec.holderIdentity).toBe(leader);
    expect(a.e.currentLeader()).toBe(leader);
    expect(b.e.currentLeader()).toBe(leader);
  });

  it('stop() steps down first, then releases the Lease so the other takes over at once', async () => {
    const slow = { leaseDurationMs: 5000, renewDeadlineMs: 3000, retryPeriodMs: 100 };
    const order: string[] = [];
    const a = elector('replica-a', {
      ...slow,
      onStoppedLeading: async () => {
        order.push('stopped-leading');
        await new Promise((r) => setTimeout(r, 50));
        order.push('writes-drained');
      },
    });
    a.e.start();
    await eventually(() => a.e.isLeader(), 3000);
    const b = elector('replica-b', slow);
    b.e.start();
    await eventually(() => b.e.currentLeader() === 'replica-a', 2000);
    const stoppedAt = Date.now();
    await a.e.stop();
    order.push('stop-returned');
    expect(order).toEqual(['stopped-leading', 'writes-drained', 'stop-returned']);
    expect(a.gauge.value).toBe(0);
    await eventually(() => b.e.isLeader(), 2000);
    expect(Date.now() - stoppedAt).toBeLessThan(slow.leaseDurationMs); // released, not expired
    expect(lease()?.spec).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
  });

  it('a leader that cannot renew steps down within the renew deadline; the other takes over after expiry', async () => {
    const a = elector('replica-a');
    a.e.start();
    await eventually(() => a.e.isLeader(), 3000);
    const b = elector('replica-b');
    b.e.start();
    await eventually(() => b.e.currentLeader() === 'replica-a', 2000);
    // Every Lease request of replica-a fails from now on.
    server.failNext({ resource: 'leases', where: (r) => String(r.headers['user-agent']).includes('replica-a'), status: 500, times: 1000 });
    const cutAt = Date.now();
    await eventually(() => !a.e.isLeader(), 2000);
    const steppedDownAfter = Date.now() - cutAt;
    expect(a.events).toEqual(['started', 'stopped']);
    await eventually(() => b.e.isLeader(), 4000);
    const tookOverAfter = Date.now() - cutAt;
    // The old leader stops before the new one starts: no moment with two writers.
    expect(steppedDownAfter).toBeLessThan(tookOverAfter);
    expect(steppedDownAfter).toBeLessThanOrEqual(FAST.renewDeadlineMs + FAST.retryPeriodMs + 100);
    expect(lease()?.spec.holderIdentity).toBe('replica-b');
  });

  it('a Lease abandoned by a crashed holder is taken after leaseDurationSeconds of no change', async () => {
    const old = '2020-01-01T00:00:00.000000Z';
    server.put({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...LEASE },
      spec: { holderIdentity: 'crashed', leaseDurationSeconds: 1, acquireTime: old, renewTime: old, leaseTransitions: 4 },
    });
    const a = elector('replica-a');
    const startedAt = Date.now();
    a.e.start();
    await eventually(() => a.e.currentLeader() === 'crashed', 1000);
    expect(a.e.isLeader()).toBe(false); // judged by our own clock: a full lease duration first
    await eventually(() => a.e.isLeader(), 3000);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1000);
    expect(lease()?.spec).toMatchObject({ holderIdentity: 'replica-a', leaseTransitions: 5 });
  });

  it('loses the update race with a 409 and does not lead', async () => {
    server.put({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...LEASE },
      spec: { leaseDurationSeconds: 1, leaseTransitions: 0 }, // free
    });
    server.failNext({ resource: 'leases', verb: 'update', status: 409, reason: 'Conflict', message: 'Operation cannot be fulfilled on leases.coordination.k8s.io "propagation-leader": the object has been modified; please apply your changes to the latest version and try again' });
    const a = elector('replica-a');
    a.e.start();
    await server.waitForRequests({ resource: 'leases', verb: 'update' }, 1);
    expect(a.e.isLeader()).toBe(false);
    await eventually(() => a.e.isLeader(), 2000); // next attempt re-reads and wins
  });

  it('refuses durations that would allow two leaders', () => {
    expect(() => elector('x', { leaseDurationMs: 1000, renewDeadlineMs: 1000 })).toThrow(RangeError);
    expect(() => elector('x', { renewDeadlineMs: 500, retryPeriodMs: 500 })).toThrow(RangeError);
    electors.length = 0;
  });
});
