/**
 * Regression test for src/kube/reflector.ts (used by the propagation caches): a watch that cannot
 * even be opened (client-node's Watch.watch rejects when the kubeconfig cannot be applied, e.g. an
 * unreadable token file) is retried with backoff instead of leaving an unhandled rejection.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Reflector, type RestartReason } from '../../src/kube/reflector.js';
import { captureLogs } from '../support/log-capture.js';
import { eventually } from './support.js';

describe('Reflector when the watch cannot be opened', () => {
  it('retries with backoff', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    let applies = 0;
    kubeConfig.applyToFetchOptions = () => {
      applies++;
      return Promise.reject(new Error('token file unreadable'));
    };
    const restarts: RestartReason[] = [];
    const logs = captureLogs('warn');
    const reflector = new Reflector<{ metadata?: { name?: string } }>({
      name: 'test',
      kubeConfig,
      userAgent: 'registry-config-webhook/test',
      list: async () => ({ items: [], metadata: { resourceVersion: '1' } }),
      watchPath: '/api/v1/namespaces',
      sink: { replaceAll: () => undefined, upsert: () => undefined, remove: () => undefined },
      log: logs.log,
      resyncPeriodMs: 60_000,
      backoff: { initialMs: 10, maxMs: 20 },
      onRestart: (reason) => restarts.push(reason),
    });
    try {
      await reflector.start();
      await eventually(() => applies >= 3, 2000);
      expect(restarts.filter((r) => r === 'error').length).toBeGreaterThanOrEqual(2);
      expect(logs.text()).toContain('watch could not be opened');
    } finally {
      await reflector.stop();
    }
  });
});
