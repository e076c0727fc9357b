/** A fake API server plus propagation controllers started against it, with the lookups the tests assert on. */
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { startPropagationController, type PropagationSettings, type RunningPropagationController } from '../../src/propagation/index.js';
import { DEFAULT_PROPAGATION_EXCLUDE } from '../../src/propagation/exclude.js';
import type { SecretObject } from '../../src/propagation/types.js';
import { startFakeApiServer, type FakeApiServer, type FakeApiServerOptions, type KubeObject, type RecordedRequest } from '../support/fake-apiserver.js';
import { captureLogs } from '../support/log-capture.js';
import { baseSecret, NAME, OURS, OURS_VALUE, SYSTEM_NS } from './support.js';

export const LEASE_NAME = 'registry-config-webhook-propagation';
/** Short durations for the tests about losing and taking over the lease. */
export const FAST_LEASE = { name: LEASE_NAME, namespace: 'kyma-system', durationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 200 };

export interface Harness {
  server: FakeApiServer;
  /** server.put() for the plain objects the builders make (as the API would store it). */
  put(object: object): SecretObject;
  start(identity?: string, overrides?: Partial<PropagationSettings>): Promise<Controller>;
  /** Copies of ours, by namespace, as stored. */
  copies(): Map<string, SecretObject>;
  secret(namespace: string): SecretObject | undefined;
  /** Secret write requests (create/update/patch/delete), optionally only those of one controller. */
  secretWrites(identity?: string, since?: number): RecordedRequest[];
  seq(): number;
  close(): Promise<void>;
}

export interface Controller extends RunningPropagationController {
  identity: string;
  metrics: Metrics;
  logs: ReturnType<typeof captureLogs>;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export async function startHarness(options: { namespaces?: string[]; base?: SecretObject | false; apiserver?: FakeApiServerOptions } = {}): Promise<Harness> {
  const server = await startFakeApiServer(options.apiserver);
  server.createNamespace(SYSTEM_NS);
  for (const ns of options.namespaces ?? []) server.createNamespace(ns);
  if (options.base !== false) server.put((options.base ?? baseSecret()) as KubeObject);
  const running: Controller[] = [];

  return {
    server,
    put(object) {
      return server.put(object as KubeObject) as unknown as SecretObject;
    },
    async start(identity = 'replica-a', overrides = {}) {
      const logs = captureLogs('info');
      const metrics = createMetrics({ processMetrics: false });
      const controller = await startPropagationController({
        kubeConfig: server.kubeConfig(),
        systemNamespace: SYSTEM_NS,
        exclude: DEFAULT_PROPAGATION_EXCLUDE,
        resyncPeriodMs: 60_000,
        // Long enough not to flap while a busy test worker's event loop lags; leadership tests pass shorter ones.
        lease: { name: LEASE_NAME, namespace: SYSTEM_NS, durationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 200 },
        identity,
        log: logs.log,
        metrics,
        concurrency: 8,
        backoff: { initialMs: 50, maxMs: 500 },
        watchTimeoutSeconds: 60,
        ...overrides,
      });
      const c: Controller = { ...controller, identity, metrics, logs };
      running.push(c);
      return c;
    },
    copies() {
      const out = new Map<string, SecretObject>();
      for (const s of server.list('secrets') as unknown as SecretObject[]) {
        if (s.metadata?.name === NAME && s.metadata.labels?.[OURS] === OURS_VALUE) out.set(s.metadata.namespace ?? '', s);
      }
      return out;
    },
    secret(namespace) {
      return server.get('secrets', namespace, NAME) as unknown as SecretObject | undefined;
    },
    secretWrites(identity, since = 0) {
      return server.requests.filter(
        (r) =>
          r.seq > since &&
          r.resource === 'secrets' &&
          r.verb !== undefined &&
          WRITE_VERBS.has(r.verb) &&
          (identity === undefined || String(r.headers['user-agent']).includes(`(${identity})`)),
      );
    },
    seq() {
      return server.requests.at(-1)?.seq ?? 0;
    },
    async close() {
      await Promise.all(running.splice(0).map((c) => c.stop()));
      await server.close();
    },
  };
}
