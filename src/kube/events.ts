/**
 * core/v1 Events about an object, the way client-go's record package writes them: the Event
 * lives in the object's namespace (the API server requires involvedObject.namespace to equal it),
 * identical Events within ten minutes bump `count` and `lastTimestamp` of the first instead of
 * creating new ones, and a per-object token bucket stops a burst from flooding etcd.
 * Recording never throws and never blocks the caller; failures are logged at debug level.
 * Messages must never carry Secret data.
 */
import { type CoreV1Api, type CoreV1Event, PatchStrategy } from '@kubernetes/client-node';
import type { Logger } from '../logger.js';
import { apiErrorInfo, describeApiError } from './api-status.js';
import { requestOptions, withContentType } from './request-options.js';
import { TokenBucket } from './token-bucket.js';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  core: CoreV1Api;
  /** `source.component` and `reportingComponent`, e.g. "registry-config-webhook". */
  component: string;
  /** `reportingInstance`, e.g. the pod name. */
  instance: string;
  log: Logger;
  userAgent: string;
  requestTimeoutMs?: number;
  /** How long identical Events are aggregated into one (client-go: 10 minutes). */
  aggregateWindowMs?: number;
  /** Per involved object: burst and refill (client-go: 25, one per 5 minutes). */
  burst?: number;
  refillPerSecond?: number;
  now?: () => number;
}

/** Event messages are capped by the API server at 1 KiB (note) / client-go truncates likewise. */
export const MAX_EVENT_MESSAGE = 1024;
const MAX_TRACKED = 1024;

interface Seen {
  name: string;
  count: number;
  firstTimestamp: string;
  at: number;
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly pending = new Set<Promise<void>>();
  private readonly now: () => number;
  private sequence = 0;

  constructor(private readonly options: EventRecorderOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Fire-and-forget; see flush(). */
  record(involved: InvolvedObject, type: EventType, reason: string, message: string): void {
    const objectKey = `${involved.namespace}/${involved.name}/${involved.uid ?? ''}`;
    if (!this.bucketFor(objectKey).tryTake()) {
      this.options.log.debug({ reason, object: `${involved.namespace}/${involved.name}` }, 'event dropped by rate limit');
      return;
    }
    const text = truncate(message);
    const promise = this.write(involved, type, reason, text, `${objectKey}|${type}|${reason}|${text}`).finally(() => {
      this.pending.delete(promise);
    });
    this.pending.add(promise);
  }

  /** Waits for Events being written (on shutdown, and in tests). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async write(involved: InvolvedObject, type: EventType, reason: string, message: string, key: string): Promise<void> {
    const now = this.now();
    const timestamp = rfc3339Seconds(now);
    const options = requestOptions({ userAgent: this.options.userAgent, timeoutMs: this.options.requestTimeoutMs ?? 10_000 });
    const previous = this.seen.get(key);
    if (previous !== undefined && now - previous.at < (this.options.aggregateWindowMs ?? 10 * 60_000)) {
      const count = previous.count + 1;
      try {
        await this.options.core.patchNamespacedEvent(
          { namespace: involved.namespace, name: previous.name, body: { count, lastTimestamp: timestamp } },
          withContentType(options, PatchStrategy.MergePatch),
        );
        this.remember(key, { ...previous, count, at: now });
        return;
      } catch (err) {
        // Expired (Events have a TTL) or never stored: start a new one below.
        if (apiErrorInfo(err).code !== 404) {
          this.options.log.debug({ reason, error: describeApiError(err) }, 'event update failed');
          return;
        }
      }
    }
    const name = `${involved.name}.${this.uniqueSuffix(now)}`;
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: involved.namespace },
      involvedObject: { ...involved },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      source: { component: this.options.component },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance,
    } as unknown as CoreV1Event;
    try {
      await this.options.core.createNamespacedEvent({ namespace: involved.namespace, body }, options);
      this.remember(key, { name, count: 1, firstTimestamp: timestamp, at: now });
    } catch (err) {
      this.options.log.debug({ reason, error: describeApiError(err) }, 'event create failed');
    }
  }

  private remember(key: string, seen: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, seen);
    // Oldest first (Map order): a small LRU.
    while (this.seen.size > MAX_TRACKED) this.seen.delete(this.seen.keys().next().value as string);
  }

  private bucketFor(objectKey: string): TokenBucket {
    let bucket = this.buckets.get(objectKey);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.options.refillPerSecond ?? 1 / 300, this.options.burst ?? 25, this.now);
      this.buckets.set(objectKey, bucket);
      while (this.buckets.size > MAX_TRACKED) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    return bucket;
  }

  /** client-go names Events `<object>.<unix nanoseconds in hex>`; a counter keeps them unique within a millisecond. */
  private uniqueSuffix(now: number): string {
    this.sequence = (this.sequence + 1) % 1_000_000;
    return (BigInt(now) * 1_000_000n + BigInt(this.sequence)).toString(16);
  }
}

/** Time fields (not MicroTime): whole seconds, as the API server stores them. */
function rfc3339Seconds(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

function truncate(message: string): string {
  return message.length <= MAX_EVENT_MESSAGE ? message : `${message.slice(0, MAX_EVENT_MESSAGE - 3)}...`;
}
