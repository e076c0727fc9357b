/**
 * Every write the propagation controller makes, behind the same gates, in this order:
 * still leading, the hard guards, a slot among the writes in flight (adaptive: halved on 429),
 * the optional writes-per-second ceiling, still leading (again, after the waits), the write
 * budget. Successful writes are applied to the cache at once. A 429 gives its budget back and
 * becomes a ThrottledError carrying the server's Retry-After.
 */
import { type CoreV1Api, PatchStrategy, type V1Secret } from '@kubernetes/client-node';
import { performance } from 'node:perf_hooks';
import type { AdaptiveConcurrency } from '../kube/adaptive-concurrency.js';
import { apiErrorInfo } from '../kube/api-status.js';
import { requestOptions, withContentType } from '../kube/request-options.js';
import { retryAfterOf429, ThrottledError } from '../kube/throttling.js';
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
  /** Writes in flight, adapting to 429s. */
  inFlight: AdaptiveConcurrency;
  /** Optional writes-per-second ceiling. */
  ceiling: TokenBucket | undefined;
  metrics: Pick<Metrics, 'propagationWrites' | 'propagationWriteDuration' | 'propagationThrottled'> | undefined;
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
    const created = await this.send(namespace, 'create', () =>
      this.options.core.createNamespacedSecret({ namespace, body: body as V1Secret }, this.callOptions()),
    );
    this.options.secrets.applyWritten(created as SecretObject);
    return created as SecretObject;
  }

  async update(body: SecretObject): Promise<SecretObject> {
    const namespace = this.copyTarget(body);
    const updated = await this.send(namespace, 'update', () =>
      this.options.core.replaceNamespacedSecret({ namespace, name: COPY_NAME, body: body as V1Secret }, this.callOptions()),
    );
    this.options.secrets.applyWritten(updated as SecretObject);
    return updated as SecretObject;
  }

  /** Deletes exactly `existing` (uid and resourceVersion preconditions); already gone counts as done. */
  async delete(existing: SecretObject): Promise<void> {
    const namespace = this.copyTarget(existing);
    const uid = existing.metadata?.uid;
    const resourceVersion = existing.metadata?.resourceVersion;
    const preconditions: { uid?: string; resourceVersion?: string } = {};
    if (typeof uid === 'string') preconditions.uid = uid;
    if (typeof resourceVersion === 'string') preconditions.resourceVersion = resourceVersion;
    await this.send(namespace, 'delete', async () => {
      try {
        await this.options.core.deleteNamespacedSecret({ namespace, name: COPY_NAME, body: { preconditions } }, this.callOptions());
      } catch (err) {
        if (apiErrorInfo(err).code !== 404) throw err;
      }
    });
    this.options.secrets.applyDeleted(namespace, typeof uid === 'string' ? uid : undefined);
  }

  /** Sets the base's finalizers (merge patch; the resourceVersion makes a concurrent change a 409). */
  async setBaseFinalizers(base: SecretObject, finalizers: string[]): Promise<SecretObject> {
    assertBaseTarget(base, this.options.systemNamespace);
    const body = { metadata: { finalizers, resourceVersion: base.metadata?.resourceVersion } };
    const patched = await this.send(this.options.systemNamespace, 'patch', () =>
      this.options.core.patchNamespacedSecret(
        { namespace: this.options.systemNamespace, name: COPY_NAME, body },
        withContentType(this.callOptions(), PatchStrategy.MergePatch),
      ),
    );
    this.options.secrets.applyWritten(patched as SecretObject);
    return patched as SecretObject;
  }

  private copyTarget(secret: SecretObject): string {
    const namespace = namespaceOf(secret) ?? '';
    assertCopyTarget({ namespace, name: secret.metadata?.name ?? '' }, this.options.systemNamespace);
    return namespace;
  }

  /** Runs one write request behind the gates (see the top of this file). */
  private async send<T>(key: string, verb: WriteVerb, call: () => Promise<T>): Promise<T> {
    if (!this.term.active()) throw new NotLeadingError();
    const permit = await this.options.inFlight.acquire(this.term.signal);
    let window: number;
    try {
      if (this.options.ceiling) await delay(this.options.ceiling.reserve(), this.term.signal);
      // Leadership may have ended while waiting for a slot or a token.
      if (!this.term.active()) throw new NotLeadingError();
      window = this.options.budget.take(key);
    } catch (err) {
      permit.done('other');
      throw err;
    }
    const metrics = this.options.metrics;
    metrics?.propagationWrites.inc({ verb });
    const started = performance.now();
    try {
      const result = await call();
      permit.done('ok');
      return result;
    } catch (err) {
      const retryAfterMs = retryAfterOf429(err);
      if (retryAfterMs !== undefined) {
        permit.done('throttled');
        this.options.budget.refund(key, window);
        metrics?.propagationThrottled.inc({ verb });
        throw new ThrottledError(retryAfterMs);
      }
      // A 4xx answer (404, 409, ...) is the server keeping up; a 5xx, a timeout or a cut connection
      // changes nothing here (the namespace backs off in the work queue).
      const code = apiErrorInfo(err).code;
      permit.done(code !== undefined && code < 500 ? 'ok' : 'other');
      throw err;
    } finally {
      metrics?.propagationWriteDuration.observe({ verb }, (performance.now() - started) / 1000);
    }
  }

  private callOptions() {
    return requestOptions({ userAgent: this.options.userAgent, timeoutMs: this.options.requestTimeoutMs });
  }
}
