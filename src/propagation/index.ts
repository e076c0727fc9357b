/**
 * The propagation controller, assembled: two reflectors (all namespaces; Secrets named
 * `serverless-registry-config` in all namespaces) keep caches warm in every replica, leader
 * election picks the one replica that writes, and the controller runs only while leading.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { EventRecorder } from '../kube/events.js';
import { LeaderElector } from '../kube/leader-election.js';
import { Reflector, type ListPage } from '../kube/reflector.js';
import { requestOptions } from '../kube/request-options.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { nameOf, namespaceOf } from '../registry/index.js';
import { PropagationController, type LastPass } from './controller.js';
import { sourceRefFor } from './desired-copy.js';
import { parseExcludeSelector } from './exclude.js';
import { isOurCopy } from './guards.js';
import type { LabelSelector } from './label-selector.js';
import { COPY_NAME } from './names.js';
import { ObjectCache } from './object-cache.js';
import { namespaceEssentials, type NamespaceObject, type SecretObject } from './types.js';

export { BASE_KEY, PropagationController } from './controller.js';
export { DEFAULT_PROPAGATION_EXCLUDE, parseExcludeSelector, PropagationExcludeError } from './exclude.js';
export { COPY_MANAGED_BY_LABEL, COPY_MANAGED_BY_VALUE, COPY_SELECTOR, PROPAGATION_FINALIZER, SOURCE_ANNOTATION } from './names.js';
export { LabelSelectorError, parseLabelSelector, type LabelSelector } from './label-selector.js';

export interface PropagationSettings {
  kubeConfig: KubeConfig;
  systemNamespace: string;
  /** PROPAGATION_EXCLUDE: a label selector over namespaces (text is parsed; errors name the variable). */
  exclude: string | LabelSelector;
  resyncPeriodMs: number;
  lease: { name: string; namespace: string; durationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** This replica, for the Lease and Events (the pod name). */
  identity: string;
  log: Logger;
  metrics?: Metrics;
  /** Writes in flight at most, lowered while the API server answers 429 (default 16). */
  concurrency?: number;
  /** Optional ceiling on writes per second (default 0: none). */
  writesPerSecond?: number;
  /** Per-namespace retry backoff (default 1 s doubling up to 5 min). */
  backoff?: { initialMs: number; maxMs: number };
  /** Writes per namespace per resync period before writes to it pause (default 10). */
  writesPerNamespacePerPeriod?: number;
  /** Bound on each API request (default 10 s). */
  requestTimeoutMs?: number;
  /** Server-side watch timeout of the reflectors (default: 5-10 min, randomised). */
  watchTimeoutSeconds?: number;
  /** Other work only the leader does (credential checks): started and stopped with leadership. */
  leadership?: { started(): void; stopped(): Promise<void> };
}

export interface PropagationStatus {
  leading: boolean;
  /** The Lease holder as last observed. */
  leader: string | undefined;
  /** Both caches have been listed once. */
  synced: boolean;
  /** `present`, `absent:<why>` or `held:<why>`. */
  base: string;
  /** Copies of ours currently in the cluster (from the cache). */
  copies: number;
  queueDepth: number;
  lastPass: LastPass | undefined;
}

export interface RunningPropagationController {
  /** Stops writing, releases the Lease (a successor takes over at once), stops the watches. */
  stop(): Promise<void>;
  status(): PropagationStatus;
  /** Reconciles every namespace now (only the leader does anything). */
  resync(): void;
  /** Resolves when the leader has no queued or running work and no Event is being written (tests, diagnostics). */
  idle(): Promise<void>;
}

const USER_AGENT = 'registry-config-webhook/propagation';
/** PROPAGATION_CONCURRENCY's default: see docs/propagation-at-scale.md for how it was chosen. */
export const DEFAULT_PROPAGATION_CONCURRENCY = 16;

/** Starts caches and leader election at once; reconciling starts when this replica leads and the caches have synced. */
export async function startPropagationController(settings: PropagationSettings): Promise<RunningPropagationController> {
  const exclude = typeof settings.exclude === 'string' ? parseExcludeSelector(settings.exclude) : settings.exclude;
  const log = settings.log.child({ component: 'propagation' });
  const core = settings.kubeConfig.makeApiClient(CoreV1Api);
  const userAgent = `${USER_AGENT} (${settings.identity})`;
  const requestTimeoutMs = settings.requestTimeoutMs ?? 10_000;
  const listOptions = () => requestOptions({ userAgent, timeoutMs: requestTimeoutMs * 3 });

  const sourceRef = sourceRefFor(settings.systemNamespace);
  const namespaces = new ObjectCache<NamespaceObject>((ns) => nameOf(ns), () => false, namespaceEssentials);
  const secrets = new ObjectCache<SecretObject>(
    // Only the one name is watched; anything else reaching the cache would be a bug upstream.
    (secret) => (nameOf(secret) === COPY_NAME ? namespaceOf(secret) : undefined),
    (secret) => namespaceOf(secret) !== settings.systemNamespace && isOurCopy(secret, sourceRef),
  );

  const reflectorBase = {
    kubeConfig: settings.kubeConfig,
    userAgent,
    log,
    resyncPeriodMs: settings.resyncPeriodMs,
    ...(settings.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: settings.watchTimeoutSeconds } : {}),
  };
  const namespaceReflector = new Reflector<NamespaceObject>({
    ...reflectorBase,
    name: 'namespaces',
    list: async (page) =>
      (await core.listNamespace({ limit: page.limit, ...cont(page) }, listOptions())) as unknown as ListPage<NamespaceObject>,
    watchPath: '/api/v1/namespaces',
    sink: namespaces,
  });
  const fieldSelector = `metadata.name=${COPY_NAME}`;
  const secretReflector = new Reflector<SecretObject>({
    ...reflectorBase,
    name: `secrets ${fieldSelector}`,
    list: async (page) =>
      (await core.listSecretForAllNamespaces(
        { fieldSelector, limit: page.limit, ...cont(page) },
        listOptions(),
      )) as unknown as ListPage<SecretObject>,
    watchPath: '/api/v1/secrets',
    watchQuery: { fieldSelector },
    sink: secrets,
  });

  const events = new EventRecorder({
    core,
    component: 'registry-config-webhook',
    instance: settings.identity,
    log,
    userAgent,
    requestTimeoutMs,
  });
  const controller = new PropagationController({
    systemNamespace: settings.systemNamespace,
    exclude,
    namespaces,
    secrets,
    core,
    events,
    log,
    metrics: settings.metrics,
    resyncPeriodMs: settings.resyncPeriodMs,
    userAgent,
    requestTimeoutMs,
    concurrency: settings.concurrency ?? DEFAULT_PROPAGATION_CONCURRENCY,
    writesPerSecond: settings.writesPerSecond ?? 0,
    backoff: settings.backoff ?? { initialMs: 1000, maxMs: 5 * 60_000 },
    writesPerNamespacePerPeriod: settings.writesPerNamespacePerPeriod ?? 10,
  });

  const synced = Promise.all([namespaceReflector.start(), secretReflector.start()]);
  let term = 0;
  const elector = new LeaderElector({
    kubeConfig: settings.kubeConfig,
    namespace: settings.lease.namespace,
    name: settings.lease.name,
    identity: settings.identity,
    leaseDurationMs: settings.lease.durationMs,
    renewDeadlineMs: settings.lease.renewDeadlineMs,
    retryPeriodMs: settings.lease.retryPeriodMs,
    log,
    userAgent,
    ...(settings.metrics ? { isLeaderGauge: settings.metrics.leaderElectionIsLeader } : {}),
    onStartedLeading: () => {
      settings.leadership?.started();
      const mine = ++term;
      // Reconciles read the caches: wait for the first lists (no-op once synced).
      void synced.then(() => {
        if (mine === term && elector.isLeader()) controller.start();
      });
    },
    onStoppedLeading: async () => {
      term++;
      await settings.leadership?.stopped();
      await controller.stop();
      await events.flush();
    },
  });
  elector.start();
  log.info(
    { systemNamespace: settings.systemNamespace, exclude: exclude.text, lease: `${settings.lease.namespace}/${settings.lease.name}`, identity: settings.identity },
    'propagation controller started; campaigning for leadership',
  );

  return {
    async stop() {
      await elector.stop(); // steps down (controller stopped) and releases the Lease
      await controller.stop();
      await events.flush();
      await Promise.all([namespaceReflector.stop(), secretReflector.stop()]);
    },
    status() {
      const { base, copies, queueDepth, lastPass } = controller.status();
      return {
        leading: elector.isLeader(),
        leader: elector.currentLeader(),
        synced: namespaceReflector.hasSynced() && secretReflector.hasSynced(),
        base,
        copies,
        queueDepth,
        lastPass,
      };
    },
    resync: () => controller.resync(),
    async idle() {
      await controller.idle();
      await events.flush();
    },
  };
}

function cont(page: { continue?: string }): { _continue?: string } {
  return page.continue === undefined ? {} : { _continue: page.continue };
}
