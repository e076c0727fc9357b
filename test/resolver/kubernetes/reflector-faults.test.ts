/**
 * Faults of the list+watch machinery the resolver relies on (src/kube/reflector.ts), seen through
 * the Kubernetes source: a watch that cannot even be started, and an in-stream ERROR event.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../../src/metrics/metrics.js';
import { type FakeApiServer, startFakeApiServer } from '../../support/fake-apiserver.js';
import { defaultSecret, namespaceSecret, SYSTEM } from '../secrets.js';
import { eventually, startService, stored, type RunningService } from './support.js';

let fake: FakeApiServer;
let running: RunningService | undefined;

beforeEach(async () => {
  fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a'] });
  fake.put(stored(defaultSecret()));
});

afterEach(async () => {
  await running?.service.stop();
  running = undefined;
  await fake.close();
});

function restarts(metrics: Metrics, reason: string): Promise<number> {
  return metrics.resolverWatchRestarts.get().then((m) => m.values.find((v) => v.labels.reason === reason)?.value ?? 0);
}

describe('watch faults', () => {
  it('a watch whose request cannot be prepared (credentials unreadable) is retried, not an unhandled rejection', async () => {
    const kubeConfig = fake.kubeConfig();
    const apply = kubeConfig.applyToFetchOptions.bind(kubeConfig);
    let failures = 2;
    // Only Watch uses applyToFetchOptions; lists authenticate through the API client's middleware.
    kubeConfig.applyToFetchOptions = async (options) => {
      if (failures-- > 0) throw new Error('token file unreadable');
      return apply(options);
    };
    const metrics = createMetrics({ processMetrics: false });
    running = await startService(fake, { kubeConfig, metrics });
    await fake.waitForWatches({ resource: 'secrets' }, 2);
    expect(await restarts(metrics, 'error')).toBe(2);
    fake.put(stored(namespaceSecret('team-a')));
    await eventually(() => expect(running?.service.index.resolve('team-a')).toMatchObject({ found: true, config: { source: 'namespace' } }));
  });

  it('an ERROR event (not 410) ending the stream reconnects with backoff, not at once', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const error = { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Too large resource version', reason: 'Timeout', code: 504 } };
    fake.failNext({ verb: 'watch', resource: 'secrets', namespace: SYSTEM, status: 200, body: `${JSON.stringify(error)}\n` });
    running = await startService(fake, { metrics });
    await fake.waitForWatches({ resource: 'secrets' }, 2);
    expect(await restarts(metrics, 'error')).toBe(1);
    expect(await restarts(metrics, 'timeout')).toBe(0);
  });
});
