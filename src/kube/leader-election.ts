/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection package:
 *  - a candidate takes the Lease when it is absent (create; 409 AlreadyExists: someone was faster,
 *    re-read), free (no holder: a leader released it) or expired (update with the read
 *    resourceVersion; 409 Conflict: another candidate won the race);
 *  - expiry is judged by the local time at which the Lease record was last seen to change, plus
 *    the record's leaseDurationSeconds, never by comparing the holder's clock with ours;
 *  - the leader renews every retry period and steps down as soon as it has not renewed for
 *    renewDeadline (shorter than the lease duration, so it stops before anyone may take over),
 *    even while a renewal request hangs;
 *  - stop() steps down first (onStoppedLeading: stop writing), then releases the Lease (no holder,
 *    leaseDurationSeconds 1) so a successor takes over at once instead of after the lease duration.
 * acquireTime/renewTime are MicroTime: six fractional digits, or the API server answers 400.
 */
import { CoordinationV1Api, type KubeConfig, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import type { Logger } from '../logger.js';
import { apiErrorInfo, describeApiError } from './api-status.js';
import { microTime, parseMicroTime } from './micro-time.js';
import { requestOptions } from './request-options.js';
import { delay } from './token-bucket.js';

export interface LeaderElectorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  /** Unique per replica, e.g. the pod name. */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  /** Called when this replica becomes the leader. */
  onStartedLeading: () => void;
  /** Called when it stops being the leader (lost, or stop()); the Lease is released only after it resolves. */
  onStoppedLeading: () => void | Promise<void>;
  /** Set to 1 while leading, 0 otherwise (the registry_config_webhook_propagation_is_leader metric). */
  isLeaderGauge?: { set(value: number): void };
  userAgent?: string;
  now?: () => number;
  random?: () => number;
}

/** The Lease fields that matter, as last read or written. */
interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string | undefined;
  renewTime: string | undefined;
  leaseTransitions: number;
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly now: () => number;
  private readonly random: () => number;
  private leading = false;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wake: AbortController | undefined;
  /** The Lease as last read or written by us, and when its record last changed (local clock). */
  private lease: V1Lease | undefined;
  private observed: LeaseRecord | undefined;
  private observedAt = 0;
  /** When the last successful renewal was sent. */
  private renewedAt = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private steppingDown: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    if (options.renewDeadlineMs >= options.leaseDurationMs) throw new RangeError('renewDeadline must be shorter than the lease duration');
    if (options.retryPeriodMs >= options.renewDeadlineMs) throw new RangeError('retryPeriod must be shorter than renewDeadline');
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.options.isLeaderGauge?.set(0);
    this.loop = this.run();
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder as last observed (undefined when free or unknown). */
  currentLeader(): string | undefined {
    return this.observed?.holderIdentity || undefined;
  }

  /** Stops campaigning; when leading, steps down and releases the Lease. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.abort();
    await this.loop;
    // Also when the last attempt acquired the Lease just as stop() was called (never led, still holds it).
    const holdsLease = this.leading || this.observed?.holderIdentity === this.options.identity;
    await this.stepDown('stopping');
    if (holdsLease) await this.release();
  }

  private async run(): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.options;
    while (!this.stopped) {
      // Never campaign while the previous term is still winding down (its writes may be in flight).
      if (this.steppingDown) await this.steppingDown;
      if (this.stopped) break;
      const started = this.now();
      const ok = await this.tryAcquireOrRenew(started);
      if (this.stopped) break;
      // A success that arrives after the deadline is too late to count: we may already have stepped down.
      if (ok && this.now() - started < renewDeadlineMs) {
        this.renewedAt = started;
        if (!this.leading) this.becomeLeader();
        this.armDeadline();
      } else if (this.leading && this.now() - this.renewedAt >= renewDeadlineMs) {
        await this.stepDown('failed to renew the lease within the renew deadline');
      }
      // Candidates add jitter so replicas started together do not collide on every attempt.
      const wait = this.leading ? retryPeriodMs : retryPeriodMs * (1 + 0.2 * this.random());
      this.wake = new AbortController();
      await delay(wait, this.wake.signal).catch(() => undefined);
    }
  }

  private async tryAcquireOrRenew(now: number): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const opts = requestOptions({ userAgent: this.userAgent(), timeoutMs: this.options.renewDeadlineMs });
    // Fast path while leading: update the Lease we wrote last, without reading it first.
    let current = this.leading ? this.lease : undefined;
    if (current === undefined) {
      try {
        current = await this.api.readNamespacedLease({ namespace, name }, opts);
      } catch (err) {
        if (apiErrorInfo(err).code !== 404) {
          this.options.log.warn({ lease: `${namespace}/${name}`, error: describeApiError(err) }, 'reading the leader lease failed');
          return false;
        }
        return this.create(now);
      }
    }
    this.observe(current, now);
    const record = this.observed as LeaseRecord;
    if (record.holderIdentity !== '' && record.holderIdentity !== identity && this.observedAt + record.leaseDurationSeconds * 1000 > now) {
      return false;
    }
    const ours = record.holderIdentity === identity;
    const spec: V1LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: this.leaseDurationSeconds(),
      acquireTime: ours && record.acquireTime !== undefined ? microTimeString(record.acquireTime) : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: ours ? record.leaseTransitions : record.leaseTransitions + 1,
    };
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...leaseMetadata(current), name, namespace },
      spec,
    };
    try {
      const updated = await this.api.replaceNamespacedLease({ namespace, name, body }, opts);
      this.lease = updated;
      this.observe(updated, now);
      return true;
    } catch (err) {
      this.lease = undefined; // re-read next time
      const info = apiErrorInfo(err);
      if (info.code === 409) {
        this.options.log.debug({ lease: `${namespace}/${name}` }, 'lease changed meanwhile (409); another candidate won');
      } else {
        this.options.log.warn({ lease: `${namespace}/${name}`, error: describeApiError(err) }, 'updating the leader lease failed');
      }
      return false;
    }
  }

  private async create(now: number): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: this.leaseDurationSeconds(),
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      },
    };
    const opts = requestOptions({ userAgent: this.userAgent(), timeoutMs: this.options.renewDeadlineMs });
    try {
      const created = await this.api.createNamespacedLease({ namespace, body }, opts);
      this.lease = created;
      this.observe(created, now);
      return true;
    } catch (err) {
      if (apiErrorInfo(err).code === 409) {
        // Created by another candidate meanwhile: read it and judge it like any other Lease.
        try {
          const existing = await this.api.readNamespacedLease({ namespace, name }, opts);
          this.observe(existing, now);
        } catch {
          // Judged on the next attempt.
        }
        return false;
      }
      this.options.log.warn({ lease: `${namespace}/${name}`, error: describeApiError(err) }, 'creating the leader lease failed');
      return false;
    }
  }

  private observe(lease: V1Lease, now: number): void {
    const record = recordOf(lease);
    const o = this.observed;
    if (
      o === undefined ||
      o.holderIdentity !== record.holderIdentity ||
      o.renewTime !== record.renewTime ||
      o.leaseDurationSeconds !== record.leaseDurationSeconds ||
      o.leaseTransitions !== record.leaseTransitions
    ) {
      if (o?.holderIdentity !== record.holderIdentity) {
        this.options.log.info({ lease: `${this.options.namespace}/${this.options.name}`, holder: record.holderIdentity || null }, 'leader lease holder observed');
      }
      this.observed = record;
      this.observedAt = now;
    }
  }

  private becomeLeader(): void {
    this.leading = true;
    this.options.isLeaderGauge?.set(1);
    this.options.log.info({ identity: this.options.identity, lease: `${this.options.namespace}/${this.options.name}` }, 'became the leader');
    try {
      this.options.onStartedLeading();
    } catch (err) {
      this.options.log.error({ error: (err as Error).message }, 'onStartedLeading failed');
    }
  }

  /** Steps down while a renewal hangs: at renewedAt + renewDeadline whatever happens. */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const remaining = this.renewedAt + this.options.renewDeadlineMs - this.now();
    this.deadlineTimer = setTimeout(() => void this.stepDown('renew deadline passed without a renewal'), Math.max(0, remaining));
    this.deadlineTimer.unref();
  }

  private stepDown(why: string): Promise<void> {
    if (this.steppingDown) return this.steppingDown;
    if (!this.leading) return Promise.resolve();
    this.leading = false;
    this.lease = undefined;
    clearTimeout(this.deadlineTimer);
    this.options.isLeaderGauge?.set(0);
    this.options.log.info({ identity: this.options.identity, why }, 'stopped leading');
    this.steppingDown = (async () => {
      try {
        await this.options.onStoppedLeading();
      } catch (err) {
        this.options.log.error({ error: (err as Error).message }, 'onStoppedLeading failed');
      } finally {
        this.steppingDown = undefined;
      }
    })();
    return this.steppingDown;
  }

  /** Gives the Lease up so a successor need not wait for it to expire (client-go's ReleaseOnCancel). */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    const opts = requestOptions({ userAgent: this.userAgent(), timeoutMs: this.options.renewDeadlineMs });
    try {
      const current = await this.api.readNamespacedLease({ namespace, name }, opts);
      const record = recordOf(current);
      if (record.holderIdentity !== identity) return;
      const now = this.now();
      const body: V1Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { ...leaseMetadata(current), name, namespace },
        // No holderIdentity: the Lease is free. Transitions are kept for whoever comes next.
        spec: {
          leaseDurationSeconds: 1,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: record.leaseTransitions,
        },
      };
      await this.api.replaceNamespacedLease({ namespace, name, body }, opts);
      this.options.log.info({ lease: `${namespace}/${name}` }, 'released the leader lease');
    } catch (err) {
      this.options.log.warn({ lease: `${namespace}/${name}`, error: describeApiError(err) }, 'releasing the leader lease failed; it expires on its own');
    }
  }

  private leaseDurationSeconds(): number {
    return Math.max(1, Math.round(this.options.leaseDurationMs / 1000));
  }

  private userAgent(): string {
    return this.options.userAgent ?? `registry-config-webhook/leader-election (${this.options.identity})`;
  }
}

function recordOf(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: typeof spec.holderIdentity === 'string' ? spec.holderIdentity : '',
    leaseDurationSeconds: typeof spec.leaseDurationSeconds === 'number' ? spec.leaseDurationSeconds : 0,
    acquireTime: timeText(spec.acquireTime),
    renewTime: timeText(spec.renewTime),
    leaseTransitions: typeof spec.leaseTransitions === 'number' ? spec.leaseTransitions : 0,
  };
}

/** client-node leaves MicroTime fields as the server's string; a Date would be re-serialised with three digits. */
function timeText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const ms = parseMicroTime(value);
  return ms === undefined ? undefined : (microTime(ms) as unknown as string);
}

function microTimeString(text: string): V1LeaseSpec['acquireTime'] {
  const ms = parseMicroTime(text);
  // Written back as read when it parses (six digits as the server stored it), else re-formatted now.
  return ms === undefined ? microTime(Date.now()) : (text as unknown as V1LeaseSpec['acquireTime']);
}

/** The metadata to send back on update: identity and resourceVersion (the optimistic lock). */
function leaseMetadata(lease: V1Lease): NonNullable<V1Lease['metadata']> {
  const m = lease.metadata ?? {};
  const meta: NonNullable<V1Lease['metadata']> = {};
  if (m.resourceVersion !== undefined) meta.resourceVersion = m.resourceVersion;
  if (m.uid !== undefined) meta.uid = m.uid;
  if (m.labels !== undefined) meta.labels = m.labels;
  if (m.annotations !== undefined) meta.annotations = m.annotations;
  return meta;
}
