/**
 * The in-cluster source: two list+watch reflectors feeding one index.
 * - every Secret labelled `remote-registry: config`, all namespaces (namespace-scoped and
 *   cluster-wide Secrets);
 * - `serverless-registry-config-default` in the system namespace, by name: upstream does not label it.
 * The default Secret is owned by the by-name reflector alone, even when it is also labelled: the
 * labelled feed ignores it and its re-lists carry the by-name reflector's copy, so the two feeds
 * never contradict each other and no Secret is held twice.
 *
 * Readiness: false until both have listed once, and while either has been silent (no event,
 * bookmark or successful list) for longer than maxStalenessMs.
 * Secrets carry credentials: only names are ever logged.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { CheckResult } from '../http/readiness.js';
import type { SecretObject } from '../kube/objects.js';
import { Reflector, type ListPage, type ReflectorOptions, type ReflectorSink, type RestartReason } from '../kube/reflector.js';
import { requestOptions } from '../kube/request-options.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { DEFAULT_REGISTRY_SECRET_NAME, REMOTE_REGISTRY_SELECTOR } from '../registry/labels.js';
import type { SecretName } from '../registry/precedence.js';
import type { RegistrySecretSink, RegistrySecretSource } from './source.js';

export interface KubernetesSourceOptions {
  kubeConfig: KubeConfig;
  systemNamespace: string;
  /** Full re-list this often (RESYNC_PERIOD). */
  resyncPeriodMs: number;
  /** Not ready when a feed has been silent this long (RESOLVER_MAX_STALENESS). */
  maxStalenessMs: number;
  log: Logger;
  metrics?: Pick<Metrics, 'resolverWatchRestarts' | 'resolverLastEventTimestamp'>;
  now?: () => number;
  /** Reconnect backoff; default 500 ms .. 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  /** Server-side watch timeout; default 5–10 min, randomized. */
  watchTimeoutSeconds?: number;
  /** Per list page request. Default 30 s. */
  listTimeoutMs?: number;
}

const USER_AGENT = 'registry-config-webhook/resolver';

/** One reflector's state as readiness sees it. */
interface Feed {
  readonly name: string;
  reflector: Reflector<SecretObject> | undefined;
  lastActivityAt: number;
}

export function createKubernetesSource(options: KubernetesSourceOptions): RegistrySecretSource {
  const { systemNamespace, log, metrics } = options;
  const now = options.now ?? Date.now;
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const listOptions = () => requestOptions({ userAgent: USER_AGENT, timeoutMs: options.listTimeoutMs ?? 30_000 });
  const defaultRef: SecretName = { namespace: systemNamespace, name: DEFAULT_REGISTRY_SECRET_NAME };
  const defaultSelector = `metadata.name=${DEFAULT_REGISTRY_SECRET_NAME}`;

  const labelled: Feed = { name: `secrets ${REMOTE_REGISTRY_SELECTOR}`, reflector: undefined, lastActivityAt: 0 };
  const byName: Feed = { name: `secret ${systemNamespace}/${DEFAULT_REGISTRY_SECRET_NAME}`, reflector: undefined, lastActivityAt: 0 };
  const feeds = [labelled, byName];
  let stopped = false;
  let abortStart: ((error: Error) => void) | undefined;

  const reflectorFor = (feed: Feed, settings: Pick<ReflectorOptions<SecretObject>, 'list' | 'watchPath' | 'watchQuery' | 'sink'>) =>
    new Reflector<SecretObject>({
      ...settings,
      name: feed.name,
      kubeConfig: options.kubeConfig,
      userAgent: USER_AGENT,
      log,
      resyncPeriodMs: options.resyncPeriodMs,
      ...(options.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      onActivity: () => {
        feed.lastActivityAt = now();
        metrics?.resolverLastEventTimestamp.set(feed.lastActivityAt / 1000);
      },
      onRestart: (reason: RestartReason) => metrics?.resolverWatchRestarts.inc({ reason }),
    });

  return {
    kind: 'kubernetes',

    async start(sink) {
      if (stopped || labelled.reflector) throw new Error('the Kubernetes source can be started once');
      const merge = new DefaultSecretOwnership(sink, defaultRef, () => stopped, log);
      labelled.reflector = reflectorFor(labelled, {
        list: async (page) =>
          (await core.listSecretForAllNamespaces(
            { labelSelector: REMOTE_REGISTRY_SELECTOR, limit: page.limit, ...continueOf(page) },
            listOptions(),
          )) as unknown as ListPage<SecretObject>,
        watchPath: '/api/v1/secrets',
        watchQuery: { labelSelector: REMOTE_REGISTRY_SELECTOR },
        sink: merge.labelledSink,
      });
      byName.reflector = reflectorFor(byName, {
        list: async (page) =>
          (await core.listNamespacedSecret(
            { namespace: systemNamespace, fieldSelector: defaultSelector, limit: page.limit, ...continueOf(page) },
            listOptions(),
          )) as unknown as ListPage<SecretObject>,
        watchPath: `/api/v1/namespaces/${encodeURIComponent(systemNamespace)}/secrets`,
        watchQuery: { fieldSelector: defaultSelector },
        sink: merge.defaultSink,
      });
      // A stop during start must not leave the caller waiting forever (reflectors retry list errors).
      const aborted = new Promise<never>((_, reject) => {
        abortStart = reject;
      });
      await Promise.race([Promise.all([labelled.reflector.start(), byName.reflector.start()]), aborted]);
      abortStart = undefined;
      log.debug({ reflectors: feeds.map((f) => f.name) }, 'resolver Kubernetes source listed; watching');
    },

    async stop() {
      stopped = true;
      abortStart?.(new Error('the Kubernetes source was stopped before its first list'));
      await Promise.all(feeds.map((feed) => feed.reflector?.stop()));
    },

    readiness(): CheckResult {
      if (stopped) return { ok: false, reason: 'stopped' };
      const waiting = feeds.filter((feed) => !feed.reflector?.hasSynced());
      if (waiting.length > 0) return { ok: false, reason: `waiting for first list: ${waiting.map((f) => f.name).join(', ')}` };
      const at = now();
      for (const feed of feeds) {
        const silentMs = at - feed.lastActivityAt;
        if (silentMs > options.maxStalenessMs) {
          return { ok: false, reason: `no watch event or list for ${Math.round(silentMs / 1000)} s (${feed.name}; bound ${options.maxStalenessMs} ms)` };
        }
      }
      return { ok: true };
    },
  };
}

/**
 * Feeds the index from both reflectors. The labelled reflector's re-list replaces everything but
 * the default Secret's slot, which only the by-name reflector writes (it sees every change to it,
 * label or not); the one copy kept here lets a labelled re-list carry it along.
 */
class DefaultSecretOwnership {
  private defaultSecret: SecretObject | undefined;
  readonly labelledSink: ReflectorSink<SecretObject>;
  readonly defaultSink: ReflectorSink<SecretObject>;

  constructor(
    private readonly sink: RegistrySecretSink,
    private readonly defaultRef: SecretName,
    stopped: () => boolean,
    log: Logger,
  ) {
    const isDefault = (secret: SecretObject) => secret.metadata?.name === defaultRef.name && secret.metadata.namespace === defaultRef.namespace;
    const changed = (feed: string, type: string, secret: SecretObject) =>
      log.debug({ feed, type, namespace: secret.metadata?.namespace, name: secret.metadata?.name, resourceVersion: secret.metadata?.resourceVersion }, 'registry Secret changed');

    this.labelledSink = {
      replaceAll: (items) => {
        if (stopped()) return;
        const others = items.filter((secret) => !isDefault(secret));
        this.sink.replaceAll(this.defaultSecret ? [...others, this.defaultSecret] : others);
      },
      upsert: (secret) => {
        if (stopped() || isDefault(secret)) return;
        changed('labelled', 'upsert', secret);
        this.sink.upsert(secret);
      },
      // Also what a Secret that lost its label looks like (a label-selected watch says DELETED).
      remove: (secret) => {
        if (stopped() || isDefault(secret)) return;
        changed('labelled', 'delete', secret);
        this.sink.delete(refOf(secret));
      },
    };

    this.defaultSink = {
      replaceAll: (items) => {
        if (stopped()) return;
        this.defaultSecret = items.find(isDefault);
        if (this.defaultSecret) this.sink.upsert(this.defaultSecret);
        else this.sink.delete(this.defaultRef);
      },
      upsert: (secret) => {
        if (stopped() || !isDefault(secret)) return;
        changed('default', 'upsert', secret);
        this.defaultSecret = secret;
        this.sink.upsert(secret);
      },
      remove: (secret) => {
        if (stopped() || !isDefault(secret)) return;
        changed('default', 'delete', secret);
        this.defaultSecret = undefined;
        this.sink.delete(this.defaultRef);
      },
    };
  }
}

function refOf(secret: SecretObject): SecretName {
  return { namespace: secret.metadata?.namespace ?? '', name: secret.metadata?.name ?? '' };
}

function continueOf(page: { continue?: string }): { _continue?: string } {
  return page.continue === undefined ? {} : { _continue: page.continue };
}
