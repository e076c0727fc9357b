/** One ConfigMap written by one replica and watched by all, against the fake API server's rules. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SharedConfigMap } from '../../src/kube/shared-config-map.js';
import { eventually } from '../support/eventually.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { captureLogs } from '../support/log-capture.js';

const NS = 'kyma-system';
const NAME = 'outcomes';

describe('SharedConfigMap', () => {
  let fake: FakeApiServer;
  const maps: SharedConfigMap[] = [];
  beforeEach(async () => {
    fake = await startFakeApiServer({ namespaces: [NS] });
  });
  afterEach(async () => {
    for (const map of maps.splice(0)) await map.stop();
    await fake.close();
  });

  const open = () => {
    const seen: Array<Record<string, string> | undefined> = [];
    const map = new SharedConfigMap({ kubeConfig: fake.kubeConfig(), namespace: NS, name: NAME, userAgent: 'test', log: captureLogs('error').log, onData: (data) => seen.push(data) });
    maps.push(map);
    return { map, seen };
  };
  const stored = () => fake.get<{ data?: Record<string, string> }>('configmaps', NS, NAME)?.data;

  it('creates the ConfigMap, then replaces its data; another replica watching it sees each version', async () => {
    const writer = open();
    const reader = open();
    await Promise.all([writer.map.start(), reader.map.start()]);
    expect(reader.seen).toEqual([undefined]);
    expect(await writer.map.write({ a: '1' })).toBe('created');
    expect(await writer.map.write({ a: '1' })).toBe('unchanged');
    expect(await writer.map.write({ b: '2' })).toBe('updated');
    expect(stored()).toEqual({ b: '2' });
    await eventually(() => expect(reader.seen.at(-1)).toEqual({ b: '2' }));
    // The watch is by name: list and watch requests carry the fieldSelector (so RBAC can limit them by name).
    const reads = fake.requests.filter((r) => r.resource === 'configmaps' && r.method === 'GET');
    expect(reads.length).toBeGreaterThan(0);
    for (const read of reads) expect(read.query.fieldSelector).toBe(`metadata.name=${NAME}`);
  });

  it('re-reads and retries on 409 (someone else changed it) and recreates it when deleted', async () => {
    const writer = open();
    await writer.map.start();
    await writer.map.write({ a: '1' });
    fake.failNext({ resource: 'configmaps', method: 'PUT', status: 409, reason: 'Conflict', message: 'the object has been modified' });
    expect(await writer.map.write({ a: '2' })).toBe('updated');
    expect(stored()).toEqual({ a: '2' });
    fake.remove('configmaps', NS, NAME);
    await eventually(() => expect(writer.seen.at(-1)).toBeUndefined());
    expect(await writer.map.write({ a: '3' })).toBe('created');
    expect(stored()).toEqual({ a: '3' });
  });

  it('gives up after its attempts when every write conflicts, with the API error', async () => {
    const writer = open();
    await writer.map.start();
    await writer.map.write({ a: '1' });
    fake.failNext({ resource: 'configmaps', method: 'PUT', status: 409, reason: 'Conflict', times: 10 });
    await expect(writer.map.write({ a: '2' })).rejects.toMatchObject({ code: 409 });
    expect(stored()).toEqual({ a: '1' });
  });
});
