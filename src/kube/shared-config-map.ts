import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import type { Logger } from '../logger.js';
import { isConflict, isNotFound } from './api-status.js';
import { type KubeObject, type ListPage, Reflector } from './reflector.js';
import { requestOptions } from './request-options.js';

export interface SharedConfigMapOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  userAgent: string;
  log: Logger;
  /** The ConfigMap's data whenever it changes (undefined while it does not exist). Must not throw. */
  onData: (data: Record<string, string> | undefined) => void;
  labels?: Record<string, string>;
  resyncPeriodMs?: number;
  watchTimeoutSeconds?: number;
  requestTimeoutMs?: number;
  /** Write attempts when the ConfigMap keeps changing under us (default 5). */
  maxAttempts?: number;
}

type ConfigMapLike = KubeObject & { data?: Record<string, string> };

/**
 * One ConfigMap, read by every replica and written by one: a watch by name (fieldSelector
 * metadata.name, so RBAC can limit list/watch by resourceNames) keeps the last seen copy; a write
 * replaces the whole data with the resourceVersion seen (create when missing; 409: re-read, retry).
 */
export class SharedConfigMap {
  private readonly api: CoreV1Api;
  private readonly reflector: Reflector<ConfigMapLike>;
  private observed: ConfigMapLike | undefined;

  constructor(private readonly options: SharedConfigMapOptions) {
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
    const fieldSelector = `metadata.name=${options.name}`;
    this.reflector = new Reflector<ConfigMapLike>({
      name: `configmaps ${options.namespace}/${options.name}`,
      kubeConfig: options.kubeConfig,
      userAgent: options.userAgent,
      log: options.log,
      list: async (page) =>
        (await this.api.listNamespacedConfigMap(
          { namespace: options.namespace, fieldSelector, limit: page.limit, ...(page.continue ? { _continue: page.continue } : {}) },
          this.requestOptions(),
        )) as unknown as ListPage<ConfigMapLike>,
      watchPath: `/api/v1/namespaces/${options.namespace}/configmaps`,
      watchQuery: { fieldSelector },
      resyncPeriodMs: options.resyncPeriodMs ?? 5 * 60_000,
      ...(options.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
      sink: {
        replaceAll: (items) => this.observe(items.find((item) => item.metadata?.name === options.name)),
        upsert: (item) => this.observe(item),
        remove: () => this.observe(undefined),
      },
    });
  }

  /** Starts the watch; resolves after its first list (errors before that are retried by the reflector). */
  start(): Promise<void> {
    return this.reflector.start();
  }

  stop(): Promise<void> {
    return this.reflector.stop();
  }

  /** Makes the ConfigMap's data exactly `data`; no request when the last seen copy already has it. */
  async write(data: Record<string, string>): Promise<'unchanged' | 'created' | 'updated'> {
    const { namespace, name } = this.options;
    const maxAttempts = this.options.maxAttempts ?? 5;
    let current = this.observed;
    for (let attempt = 1; ; attempt++) {
      if (current !== undefined && sameData(current.data, data)) return 'unchanged';
      try {
        if (current === undefined) {
          const body: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, ...(this.options.labels ? { labels: this.options.labels } : {}) }, data };
          this.observe((await this.api.createNamespacedConfigMap({ namespace, body }, this.requestOptions())) as ConfigMapLike);
          return 'created';
        }
        const body: V1ConfigMap = { ...(current as V1ConfigMap), apiVersion: 'v1', kind: 'ConfigMap', data };
        this.observe((await this.api.replaceNamespacedConfigMap({ name, namespace, body }, this.requestOptions())) as ConfigMapLike);
        return 'updated';
      } catch (err) {
        // Created meanwhile (409 AlreadyExists), changed meanwhile (409 Conflict) or deleted (404): read again.
        if (attempt >= maxAttempts || !(isConflict(err) || isNotFound(err))) throw err;
        current = await this.read();
      }
    }
  }

  private async read(): Promise<ConfigMapLike | undefined> {
    try {
      return (await this.api.readNamespacedConfigMap({ name: this.options.name, namespace: this.options.namespace }, this.requestOptions())) as ConfigMapLike;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private observe(item: ConfigMapLike | undefined): void {
    // resourceVersions are opaque: a watch event trailing our own write may briefly set an older
    // copy; the event of our write follows, and a write from the older copy gets 409 and re-reads.
    this.observed = item;
    this.options.onData(item?.data);
  }

  private requestOptions() {
    return requestOptions({ userAgent: this.options.userAgent, timeoutMs: this.options.requestTimeoutMs ?? 10_000 });
  }
}

function sameData(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const left = a ?? {};
  const keys = Object.keys(left);
  return keys.length === Object.keys(b).length && keys.every((key) => left[key] === b[key]);
}
