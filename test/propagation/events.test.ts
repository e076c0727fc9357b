import { CoreV1Api } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventRecorder, type InvolvedObject } from '../../src/kube/events.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { captureLogs } from '../support/log-capture.js';
import { SYSTEM_NS } from './support.js';

interface StoredEvent {
  metadata: { name: string; namespace: string };
  involvedObject: InvolvedObject;
  reason: string;
  message: string;
  type: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component?: string };
  reportingComponent: string;
  reportingInstance: string;
}

const base: InvolvedObject = { apiVersion: 'v1', kind: 'Secret', namespace: SYSTEM_NS, name: 'serverless-registry-config', uid: 'b1' };

describe('EventRecorder against the fake API server', () => {
  let server: FakeApiServer;
  beforeEach(async () => {
    server = await startFakeApiServer({ namespaces: [SYSTEM_NS] });
  });
  afterEach(async () => {
    await server.close();
  });

  function recorder(extra: { burst?: number; now?: () => number } = {}) {
    return new EventRecorder({
      core: server.kubeConfig().makeApiClient(CoreV1Api),
      component: 'registry-config-webhook',
      instance: 'pod-1',
      log: captureLogs('warn').log,
      userAgent: 'test',
      ...extra,
    });
  }
  const events = () => server.list(`events`, SYSTEM_NS) as unknown as StoredEvent[];

  it('writes a core/v1 Event in the object\'s namespace that the API server accepts', async () => {
    const r = recorder();
    r.record(base, 'Normal', 'Propagated', 'propagated to 3 namespaces');
    await r.flush();
    expect(events()).toHaveLength(1);
    const [e] = events();
    expect(e).toMatchObject({
      metadata: { namespace: SYSTEM_NS },
      involvedObject: base,
      reason: 'Propagated',
      message: 'propagated to 3 namespaces',
      type: 'Normal',
      count: 1,
      source: { component: 'registry-config-webhook' },
      reportingComponent: 'registry-config-webhook',
      reportingInstance: 'pod-1',
    });
    expect(e?.metadata.name).toMatch(/^serverless-registry-config\.[0-9a-f]+$/);
    expect(e?.firstTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('counts identical Events up instead of creating new ones; different ones are separate', async () => {
    let now = Date.UTC(2026, 10, 27, 18, 0, 0);
    const r = recorder({ now: () => now });
    r.record(base, 'Warning', 'TakenOver', 'took over a/x');
    await r.flush();
    now += 5000;
    r.record(base, 'Warning', 'TakenOver', 'took over a/x');
    await r.flush();
    r.record(base, 'Warning', 'TakenOver', 'took over b/x');
    await r.flush();
    expect(server.count({ resource: 'events', verb: 'create' })).toBe(2);
    expect(server.count({ resource: 'events', verb: 'patch' })).toBe(1);
    const bumped = events().find((e) => e.message === 'took over a/x');
    expect(bumped).toMatchObject({ count: 2, firstTimestamp: '2026-11-27T18:00:00Z', lastTimestamp: '2026-11-27T18:00:05Z' });
  });

  it('drops Events about one object past its burst', async () => {
    const r = recorder({ burst: 2 });
    for (let i = 0; i < 5; i++) r.record(base, 'Normal', 'R', `m${i}`);
    await r.flush();
    expect(events().map((e) => e.message).sort()).toEqual(['m0', 'm1']);
  });

  it('never throws when the API server refuses', async () => {
    server.failNext({ resource: 'events', status: 500, times: 5 });
    const r = recorder();
    r.record(base, 'Normal', 'R', 'x');
    await r.flush();
    expect(events()).toHaveLength(0);
  });

  it('truncates long messages to 1 KiB', async () => {
    const r = recorder();
    r.record(base, 'Normal', 'R', 'x'.repeat(5000));
    await r.flush();
    expect(events()[0]?.message).toHaveLength(1024);
  });
});
