/**
 * Reads and writes the one Secret that holds the self-managed certificates. Writes are
 * optimistic: create (409 AlreadyExists = another replica was first) or update carrying the
 * resourceVersion read (409 Conflict = someone wrote since); both come back as 'conflict' for the
 * caller to re-read and adopt what won. Errors name the Secret, never its data.
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { apiErrorInfo, describeApiError } from '../../kube/api-status.js';
import type { SecretObject } from '../../kube/objects.js';
import { type ListPage, Reflector, type ReflectorSink } from '../../kube/reflector.js';
import { requestOptions } from '../../kube/request-options.js';
import type { Logger } from '../../logger.js';

/** An API failure with its HTTP status (undefined for network errors and timeouts). */
export class SecretApiError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
    this.name = 'SecretApiError';
  }
}

export const SECRET_LABELS = { 'app.kubernetes.io/managed-by': 'registry-config-webhook', 'app.kubernetes.io/component': 'webhook-certificates' };

export interface CertificateSecretClientOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  userAgent: string;
  requestTimeoutMs: number;
}

export class CertificateSecretClient {
  private readonly core: CoreV1Api;
  readonly ref: string;

  constructor(private readonly options: CertificateSecretClientOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.ref = `${options.namespace}/${options.name}`;
  }

  /** The Secret, or undefined when it does not exist. */
  async read(): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ namespace: this.options.namespace, name: this.options.name }, this.requestOptions());
    } catch (err) {
      if (apiErrorInfo(err).code === 404) return undefined;
      throw this.error('read', err);
    }
  }

  async create(data: Record<string, string>, annotations: Record<string, string>): Promise<V1Secret | 'conflict'> {
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: this.options.name, namespace: this.options.namespace, labels: { ...SECRET_LABELS }, annotations },
      type: 'kubernetes.io/tls',
      data,
    };
    try {
      return await this.core.createNamespacedSecret({ namespace: this.options.namespace, body }, this.requestOptions());
    } catch (err) {
      if (apiErrorInfo(err).code === 409) return 'conflict';
      throw this.error('create', err);
    }
  }

  /** Writes `data` and `annotations` over `existing`, guarded by its resourceVersion. */
  async replace(existing: V1Secret, data: Record<string, string>, annotations: Record<string, string>): Promise<V1Secret | 'conflict'> {
    const body: V1Secret = { ...existing, metadata: { ...existing.metadata, annotations }, data };
    try {
      return await this.core.replaceNamespacedSecret({ namespace: this.options.namespace, name: this.options.name, body }, this.requestOptions());
    } catch (err) {
      const { code } = apiErrorInfo(err);
      // 404: deleted meanwhile; re-reading finds it absent and creates it.
      if (code === 409 || code === 404) return 'conflict';
      throw this.error('update', err);
    }
  }

  /** List + watch of just this Secret (fieldSelector metadata.name). */
  reflector(options: { sink: ReflectorSink<SecretObject>; log: Logger; resyncPeriodMs: number; watchTimeoutSeconds?: number }): Reflector<SecretObject> {
    const fieldSelector = `metadata.name=${this.options.name}`;
    const namespace = this.options.namespace;
    return new Reflector<SecretObject>({
      name: `secret ${this.ref}`,
      kubeConfig: this.options.kubeConfig,
      userAgent: this.options.userAgent,
      log: options.log,
      list: async (page) =>
        (await this.core.listNamespacedSecret(
          { namespace, fieldSelector, limit: page.limit, ...(page.continue ? { _continue: page.continue } : {}) },
          this.requestOptions(3),
        )) as unknown as ListPage<SecretObject>,
      watchPath: `/api/v1/namespaces/${namespace}/secrets`,
      watchQuery: { fieldSelector },
      sink: options.sink,
      resyncPeriodMs: options.resyncPeriodMs,
      ...(options.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
    });
  }

  private error(verb: string, err: unknown): SecretApiError {
    return new SecretApiError(`cannot ${verb} Secret ${this.ref}: ${describeApiError(err)}`, apiErrorInfo(err).code);
  }

  private requestOptions(timeoutFactor = 1) {
    return requestOptions({ userAgent: this.options.userAgent, timeoutMs: this.options.requestTimeoutMs * timeoutFactor });
  }
}

/** Worth retrying: network errors, timeouts, conflicts, throttling and server errors. */
export function isTransient(err: unknown): boolean {
  const code = err instanceof SecretApiError ? err.code : apiErrorInfo(err).code;
  return code === undefined || code === 408 || code === 409 || code === 429 || code >= 500;
}
