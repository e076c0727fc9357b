/**
 * Keeps `clientConfig.caBundle` of every webhook entry of one MutatingWebhookConfiguration equal to
 * a given CA bundle, and puts it back within seconds when someone re-applies the configuration
 * without it (Helm, Argo CD, kubectl).
 *
 * Writes are JSON patches that touch only the caBundle fields that differ and carry a `test` of
 * `/metadata/resourceVersion`: a configuration changed meanwhile is re-read and patched again, and
 * no entry is ever dropped or reordered (a whole-object update would race with whoever applies it).
 */
import { AdmissionregistrationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../logger.js';
import { apiErrorInfo, describeApiError } from './api-status.js';
import { Backoff } from './backoff.js';
import { type KubeObject, type ListPage, Reflector } from './reflector.js';
import { requestOptions } from './request-options.js';

export const MUTATING_WEBHOOK_CONFIGURATIONS_PATH = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

/** The parts of a MutatingWebhookConfiguration read here; works for client-node objects and plain JSON. */
export interface WebhookConfigurationLike {
  metadata?: { name?: string; resourceVersion?: string; [key: string]: unknown };
  webhooks?: { name?: string; clientConfig?: { caBundle?: string; [key: string]: unknown }; [key: string]: unknown }[];
  [key: string]: unknown;
}

export type JsonPatchOperation = { op: 'test' | 'add'; path: string; value: unknown };

/**
 * The JSON patch that sets `caBundle` (base64 of the PEM bundle, as the API server stores it) in
 * every entry where it differs, guarded by the resourceVersion; undefined when all entries match.
 * `add` replaces an existing value and creates a missing one.
 */
export function caBundlePatch(configuration: WebhookConfigurationLike, bundlePem: string): JsonPatchOperation[] | undefined {
  const resourceVersion = configuration.metadata?.resourceVersion;
  if (!resourceVersion) throw new Error('the webhook configuration has no resourceVersion');
  const value = Buffer.from(bundlePem, 'utf8').toString('base64');
  const ops: JsonPatchOperation[] = [];
  (configuration.webhooks ?? []).forEach((webhook, index) => {
    if (webhook.clientConfig === undefined || webhook.clientConfig === null) {
      ops.push({ op: 'add', path: `/webhooks/${index}/clientConfig`, value: { caBundle: value } });
    } else if (decodeCaBundle(webhook.clientConfig.caBundle) !== bundlePem) {
      ops.push({ op: 'add', path: `/webhooks/${index}/clientConfig/caBundle`, value });
    }
  });
  if (ops.length === 0) return undefined;
  return [{ op: 'test', path: '/metadata/resourceVersion', value: resourceVersion }, ...ops];
}

/** Whether some entry's caBundle is not `bundlePem`. */
export function caBundleDiffers(configuration: WebhookConfigurationLike, bundlePem: string): boolean {
  return (configuration.webhooks ?? []).some((webhook) => decodeCaBundle(webhook.clientConfig?.caBundle) !== bundlePem);
}

/** The PEM bundle every entry carries, or undefined when there are no entries or they differ. */
export function commonCaBundle(configuration: WebhookConfigurationLike | undefined): string | undefined {
  const webhooks = configuration?.webhooks ?? [];
  if (webhooks.length === 0) return undefined;
  const bundles = new Set(webhooks.map((webhook) => decodeCaBundle(webhook.clientConfig?.caBundle)));
  const [only] = bundles;
  return bundles.size === 1 && only ? only : undefined;
}

function decodeCaBundle(value: string | undefined): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return Buffer.from(value, 'base64').toString('utf8');
}

export type InjectionResult = 'patched' | 'unchanged' | 'not-found';

export interface CaBundleInjectorOptions {
  kubeConfig: KubeConfig;
  /** The MutatingWebhookConfiguration (WEBHOOK_CONFIG). */
  name: string;
  log: Logger;
  /**
   * Asked before re-injecting after someone else changed the configuration, so a replica that has
   * not yet seen another replica's rotation does not undo it. Default: the last injected bundle.
   */
  desiredBundle?: () => Promise<string | undefined>;
  /** Patch attempts per injection when the configuration keeps changing (default 5). */
  maxAttempts?: number;
  /** Full re-list of the watch (default 5 min). */
  resyncPeriodMs?: number;
  watchTimeoutSeconds?: number;
  requestTimeoutMs?: number;
  userAgent?: string;
  /** Retry delays after a failed re-injection (default 1 s doubling up to 1 min). */
  backoff?: { initialMs: number; maxMs: number };
}

/**
 * Injects a CA bundle into every entry of one MutatingWebhookConfiguration and watches it (by
 * fieldSelector metadata.name) to re-inject whenever an entry's caBundle differs. A missing
 * configuration is logged and waited for, not an error: it is injected as soon as it appears.
 */
export class CaBundleInjector {
  private readonly api: AdmissionregistrationV1Api;
  private readonly reflector: Reflector<KubeObject>;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly userAgent: string;
  private desired: string | undefined;
  private observed: WebhookConfigurationLike | undefined;
  private missingLogged = false;
  private running: Promise<unknown> = Promise.resolve();
  private driftQueued = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: CaBundleInjectorOptions) {
    this.api = options.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    this.log = options.log;
    this.userAgent = options.userAgent ?? 'registry-config-webhook/certificates';
    const backoff = options.backoff ?? { initialMs: 1000, maxMs: 60_000 };
    this.backoff = new Backoff(backoff.initialMs, backoff.maxMs);
    const fieldSelector = `metadata.name=${options.name}`;
    this.reflector = new Reflector<KubeObject>({
      name: `mutatingwebhookconfigurations ${fieldSelector}`,
      kubeConfig: options.kubeConfig,
      userAgent: this.userAgent,
      log: options.log,
      list: async (page) =>
        (await this.api.listMutatingWebhookConfiguration(
          { fieldSelector, limit: page.limit, ...(page.continue ? { _continue: page.continue } : {}) },
          this.requestOptions(3),
        )) as unknown as ListPage<KubeObject>,
      watchPath: MUTATING_WEBHOOK_CONFIGURATIONS_PATH,
      watchQuery: { fieldSelector },
      resyncPeriodMs: options.resyncPeriodMs ?? 5 * 60_000,
      ...(options.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
      sink: {
        replaceAll: (items) => this.observe(items.find((item) => item.metadata?.name === options.name) as WebhookConfigurationLike | undefined),
        upsert: (item) => this.observe(item as WebhookConfigurationLike),
        remove: () => this.observe(undefined),
      },
    });
  }

  /** Starts the watch; resolves after its first list (errors before that are retried by the reflector). */
  start(): Promise<void> {
    this.stopped = false;
    return this.reflector.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.reflector.stop();
    await this.running.catch(() => undefined);
  }

  /** Whether the configuration exists as last seen (false too before the first read). */
  hasConfiguration(): boolean {
    return this.observed !== undefined;
  }

  /** The bundle every entry carries as last seen (watch or own patch), or undefined. */
  publishedBundle(): string | undefined {
    return commonCaBundle(this.observed);
  }

  /**
   * Makes every entry carry `bundlePem` and remembers it for re-injection. Rejects when the API
   * refuses (e.g. RBAC) or the configuration kept changing for every attempt.
   */
  inject(bundlePem: string): Promise<InjectionResult> {
    this.desired = bundlePem;
    return this.serialized(() => this.injectNow(bundlePem));
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const result = this.running.catch(() => undefined).then(task);
    this.running = result.catch(() => undefined);
    return result;
  }

  private async injectNow(bundlePem: string): Promise<InjectionResult> {
    const maxAttempts = this.options.maxAttempts ?? 5;
    const name = this.options.name;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (this.stopped) return 'unchanged';
      let configuration: WebhookConfigurationLike;
      try {
        configuration = (await this.api.readMutatingWebhookConfiguration({ name }, this.requestOptions(1))) as unknown as WebhookConfigurationLike;
      } catch (err) {
        if (apiErrorInfo(err).code === 404) return this.notFound();
        throw new Error(`cannot read MutatingWebhookConfiguration ${name}: ${describeApiError(err)}`);
      }
      this.missingLogged = false;
      this.setObserved(configuration);
      const patch = caBundlePatch(configuration, bundlePem);
      if (!patch) return 'unchanged';
      try {
        const patched = (await this.api.patchMutatingWebhookConfiguration({ name, body: patch }, this.requestOptions(1))) as unknown as WebhookConfigurationLike;
        this.setObserved(patched);
        this.log.info(
          { webhookConfiguration: name, entries: patch.length - 1, of: configuration.webhooks?.length ?? 0, resourceVersion: patched.metadata?.resourceVersion },
          `injected the caBundle into MutatingWebhookConfiguration ${name}`,
        );
        return 'patched';
      } catch (err) {
        const { code } = apiErrorInfo(err);
        if (code === 404) return this.notFound();
        // A failed `test` of the resourceVersion is a 422 (not 409); both mean "changed meanwhile".
        if (code === 422 || code === 409) {
          this.log.debug({ webhookConfiguration: name, attempt, error: describeApiError(err) }, 'the webhook configuration changed meanwhile; re-reading it');
          continue;
        }
        throw new Error(`cannot patch the caBundle of MutatingWebhookConfiguration ${name}: ${describeApiError(err)}`);
      }
    }
    throw new Error(`cannot patch the caBundle of MutatingWebhookConfiguration ${name}: it changed during each of ${maxAttempts} attempts`);
  }

  private notFound(): InjectionResult {
    this.setObserved(undefined);
    if (!this.missingLogged) {
      this.missingLogged = true;
      this.log.warn(
        { webhookConfiguration: this.options.name },
        `MutatingWebhookConfiguration ${this.options.name} does not exist (yet); its caBundle is injected as soon as it appears`,
      );
    }
    return 'not-found';
  }

  private observe(configuration: WebhookConfigurationLike | undefined): void {
    this.setObserved(configuration);
    if (!configuration || this.desired === undefined || this.stopped) return;
    if (caBundleDiffers(configuration, this.desired)) this.queueDriftRepair();
  }

  private setObserved(configuration: WebhookConfigurationLike | undefined): void {
    this.observed = configuration;
  }

  /** One repair at a time; drift seen while one is queued is covered by it (it re-reads). */
  private queueDriftRepair(): void {
    if (this.driftQueued) return;
    this.driftQueued = true;
    void this.serialized(async () => {
      this.driftQueued = false;
      if (this.stopped) return;
      try {
        const bundle = (await this.options.desiredBundle?.()) ?? this.desired;
        if (bundle === undefined) return;
        this.desired = bundle;
        const result = await this.injectNow(bundle);
        if (result === 'patched') {
          this.log.info({ webhookConfiguration: this.options.name }, `re-injected the caBundle: MutatingWebhookConfiguration ${this.options.name} was changed without it`);
        }
        this.backoff.reset();
      } catch (err) {
        const delay = this.backoff.next();
        this.log.error({ webhookConfiguration: this.options.name, error: (err as Error).message, retryInMs: delay }, 'cannot re-inject the caBundle');
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => {
          if (this.observed && this.desired !== undefined && caBundleDiffers(this.observed, this.desired)) this.queueDriftRepair();
        }, delay);
        this.retryTimer.unref();
      }
    });
  }

  private requestOptions(timeoutFactor: number) {
    return requestOptions({ userAgent: this.userAgent, timeoutMs: (this.options.requestTimeoutMs ?? 10_000) * timeoutFactor });
  }
}
