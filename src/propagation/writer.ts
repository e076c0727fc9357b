/**
 * Every write the propagation controller makes, behind the same gates, in this order:
 * still leading (checked again right before the request, after any wait), the hard guards, the
 * write budget, the global rate limit. Successful writes are applied to the cache at once.
 */
import { type CoreV1Api, PatchStrategy, type V1Secret } from '@kubernetes/client-node';
import { apiErrorInfo } from '../kube/api-status.js';
import { requestOptions, withContentType } from '../kube/request-options.js';
import { delay, type TokenBucket } from '../kube/token-bucket.js';
import type { Metrics } from '../metrics/metrics.js';
import { namespaceOf } from '../registry/index.js';
import { assertBaseTarget, assertCopyTarget, type WriteBudget } from './guards.js';
import { COPY_NAME } from './names.js';
import type { ObjectCache } from './object-cache.js';
import type { SecretObject } from './types.js';

export class NotLeadingError extends Error {
  constructor() {
    super('not the leader (any more): write skipped');
    this.name = 'NotLeadingError';
  }
}

/** One leadership term: writes are allowed while `active()` and aborted with `signal`. */
export interface WriteTerm {
  readonly signal: AbortSignal;
  active(): boolean;
}

export interface CopyWriterOptions {
  core: CoreV1Api;
  systemNamespace: string;
  secrets: ObjectCache<SecretObject>;
  budget: WriteBudget;
  limiter: TokenBucket;
  metrics: Pick<Metrics, 'propagationWrites'> | undefined;
  userAgent: string;
  requestTimeoutMs: number;
}

export type WriteVerb = 'create' | 'update' | 'delete' | 'patch';

export class CopyWriter {
  constructor(
    private readonly options: CopyWriterOptions,
    private readonly term: WriteTerm,
  ) {}

  async create(body: SecretObject): Promise<SecretObject> {
    const namespace = this.copyTarget(body);
    await this.gate(namespace, 'create');
    const created = await this.options.core.createNamespacedSecret({ namespace, body: body as V1Secret }, this.callOptions());
    this.options.secrets.applyWritten(created as SecretObject);
    return created as SecretObject;
  }

  async update(body: SecretObject): Promise<SecretObject> {
    const namespace = this.copyTarget(body);
    await this.gate(namespace, 'update');
    const updated = await this.options.core.replaceNamespacedSecret(
      { namespace, name: COPY_NAME, body: body as V1Secret },
      this.callOptions(),
    );
    this.options.secrets.applyWritten(updated as SecretObject);
    return updated as SecretObject;
  }

  /** Deletes exactly `existing` (uid and resourceVersion preconditions); already gone counts as done. */
  async delete(existing: SecretObject): Promise<void> {
    const namespace = this.copyTarget(existing);
    await this.gate(namespace, 'delete');
    const uid = existing.metadata?.uid;
    const resourceVersion = existing.metadata?.resourceVersion;
    const preconditions: { uid?: string; resourceVersion?: string } = {};
    if (typeof uid === 'string') preconditions.uid = uid;
    if (typeof resourceVersion === 'string') preconditions.resourceVersion = resourceVersion;
    try {
      await this.options.core.deleteNamespacedSecret({ namespace, name: COPY_NAME, body: { preconditions } }, this.callOptions());
    } catch (err) {
      if (apiErrorInfo(err).code !== 404) throw err;
    }
    this.options.secrets.applyDeleted(namespace, typeof uid === 'string' ? uid : undefined);
  }

  /** Sets the base's finalizers (merge patch; the resourceVersion makes a concurrent change a 409). */
  async setBaseFinalizers(base: SecretObject, finalizers: string[]): Promise<SecretObject> {
    assertBaseTarget(base, this.options.systemNamespace);
    await this.gate(this.options.systemNamespace, 'patch');
    const body = { metadata: { finalizers, resourceVersion: base.metadata?.resourceVersion } };
    const patched = await this.options.core.patchNamespacedSecret(
      { namespace: this.options.systemNamespace, name: COPY_NAME, body },
      withContentType(this.callOptions(), PatchStrategy.MergePatch),
    );
    this.options.secrets.applyWritten(patched as SecretObject);
    return patched as SecretObject;
  }

  private copyTarget(secret: SecretObject): string {
    const namespace = namespaceOf(secret) ?? '';
    assertCopyTarget({ namespace, name: secret.metadata?.name ?? '' }, this.options.systemNamespace);
    return namespace;
  }

  private async gate(key: string, verb: WriteVerb): Promise<void> {
    if (!this.term.active()) throw new NotLeadingError();
    this.options.budget.take(key);
    await delay(this.options.limiter.reserve(), this.term.signal);
    // Leadership may have ended while waiting for a token.
    if (!this.term.active()) throw new NotLeadingError();
    this.options.metrics?.propagationWrites.inc({ verb });
  }

  private callOptions() {
    return requestOptions({ userAgent: this.options.userAgent, timeoutMs: this.options.requestTimeoutMs });
  }
}
