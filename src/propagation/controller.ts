/**
 * The propagation controller: keeps a copy of the base in every eligible namespace while this
 * replica leads. Reads come from the caches, decisions from plan.ts/base.ts, writes go through
 * CopyWriter. Work is keyed by namespace (plus one key for the base's finalizer) in a WorkQueue.
 *
 * What triggers work: a full pass when leadership starts, every resync period, and whenever the
 * base's content or state changes; a single namespace when it or its Secret changes (so an edited
 * or deleted copy is restored); the base key when the base changes or, during cleanup, a copy goes.
 */
import { setMaxListeners } from 'node:events';
import type { CoreV1Api } from '@kubernetes/client-node';
import { AdaptiveConcurrency } from '../kube/adaptive-concurrency.js';
import { describeApiError, apiErrorInfo } from '../kube/api-status.js';
import type { EventRecorder, EventType, InvolvedObject } from '../kube/events.js';
import { ThrottledError } from '../kube/throttling.js';
import { TokenBucket } from '../kube/token-bucket.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { isUserManagedSecret, namespaceOf } from '../registry/index.js';
import { finalizerAction, finalizersAfter, resolveBase, type BaseState } from './base.js';
import { sourceRefFor } from './desired-copy.js';
import { GuardError, isOurCopy, totalWriteBudget, WriteBudget, WriteBudgetExceededError } from './guards.js';
import type { LabelSelector } from './label-selector.js';
import { COPY_NAME } from './names.js';
import type { ObjectCache } from './object-cache.js';
import { outcomeOf, Pass, summaryMessage, type PassSummary } from './pass.js';
import { planNamespace, type Plan } from './plan.js';
import type { NamespaceObject, SecretObject } from './types.js';
import { WorkQueue } from './work-queue.js';
import { CopyWriter, NotLeadingError } from './writer.js';

/** The queue key of the base itself; `:` cannot occur in a namespace name. */
export const BASE_KEY = ':base';

export interface PropagationControllerOptions {
  systemNamespace: string;
  exclude: LabelSelector;
  namespaces: ObjectCache<NamespaceObject>;
  secrets: ObjectCache<SecretObject>;
  core: CoreV1Api;
  events: EventRecorder | undefined;
  log: Logger;
  metrics: Metrics | undefined;
  resyncPeriodMs: number;
  userAgent: string;
  requestTimeoutMs: number;
  /**
   * Writes in flight at most (PROPAGATION_CONCURRENCY), and namespaces reconciled at once: the
   * API server's 429s lower the writes allowed in flight below this, successes raise it back.
   */
  concurrency: number;
  /** Optional ceiling on writes per second (PROPAGATION_WRITES_PER_SECOND); 0: none. */
  writesPerSecond: number;
  /** Per-namespace retry backoff after a failed reconcile. */
  backoff: { initialMs: number; maxMs: number };
  /** Writes allowed per namespace per resync period (the loop breaker). */
  writesPerNamespacePerPeriod: number;
  now?: () => number;
}

export interface LastPass {
  finishedAt: string;
  trigger: string;
  summary: PassSummary;
}

interface Term {
  readonly abort: AbortController;
  readonly queue: WorkQueue<string>;
  readonly writer: CopyWriter;
  resyncTimer: NodeJS.Timeout | undefined;
  pass: Pass | undefined;
  passTrigger: string;
  isActive: boolean;
}

export class PropagationController {
  private term: Term | undefined;
  private readonly budget: WriteBudget;
  private readonly inFlight: AdaptiveConcurrency;
  private readonly ceiling: TokenBucket | undefined;
  /** Notices that are not pass summaries (takeovers, cleanup failures): a few, then one a minute. */
  private readonly noticeLimiter: TokenBucket;
  private readonly sourceRef: string;
  private passSeq = 0;
  private baseMemo: { candidate: SecretObject | undefined; state: BaseState } | undefined;
  private baseFingerprint = '';
  private lastReportedUserManaged = '';
  private lastPass: LastPass | undefined;

  constructor(private readonly options: PropagationControllerOptions) {
    const now = options.now ?? Date.now;
    this.sourceRef = sourceRefFor(options.systemNamespace);
    this.budget = new WriteBudget({
      windowMs: options.resyncPeriodMs,
      perKey: options.writesPerNamespacePerPeriod,
      total: () => totalWriteBudget(options.namespaces.size),
      now,
    });
    let lastLimit = options.concurrency;
    this.inFlight = new AdaptiveConcurrency({
      max: options.concurrency,
      onLimit: (limit) => {
        options.metrics?.propagationWriteConcurrency.set(limit);
        if (limit < lastLimit) options.log.info({ writesInFlight: limit }, 'the API server answered 429: fewer writes in flight');
        else options.log.debug({ writesInFlight: limit }, 'writes in flight raised');
        lastLimit = limit;
      },
    });
    // Burst of one second's worth (at least one write): the ceiling holds over any second.
    this.ceiling = options.writesPerSecond > 0 ? new TokenBucket(options.writesPerSecond, Math.max(1, Math.floor(options.writesPerSecond)), now) : undefined;
    this.noticeLimiter = new TokenBucket(1 / 60, 5, now);
    options.namespaces.onChange = (name, current) => {
      if (current !== undefined) this.term?.queue.add(name);
    };
    options.secrets.onChange = (namespace) => this.onSecretChange(namespace);
    this.updateCopiesMetric();
  }

  isRunning(): boolean {
    return this.term !== undefined;
  }

  /** Starts a leadership term: a full pass now and every resync period. The caches must have synced. */
  start(): void {
    if (this.term) return;
    const abort = new AbortController();
    // Every write waiting for a slot or a token listens on it: up to `concurrency` at once.
    setMaxListeners(0, abort.signal);
    const writer = new CopyWriter(
      {
        core: this.options.core,
        systemNamespace: this.options.systemNamespace,
        secrets: this.options.secrets,
        budget: this.budget,
        inFlight: this.inFlight,
        ceiling: this.ceiling,
        metrics: this.options.metrics,
        userAgent: this.options.userAgent,
        requestTimeoutMs: this.options.requestTimeoutMs,
      },
      { signal: abort.signal, active: () => term.isActive },
    );
    const term: Term = {
      abort,
      writer,
      isActive: true,
      queue: new WorkQueue<string>({
        process: (key) => this.reconcile(term, key),
        concurrency: this.options.concurrency,
        backoff: this.options.backoff,
        retryAfter: (err) => (err instanceof ThrottledError ? err.retryAfterMs : undefined),
        onDepth: (depth) => this.options.metrics?.propagationQueueDepth.set(depth),
      }),
      resyncTimer: undefined,
      pass: undefined,
      passTrigger: '',
    };
    this.term = term;
    this.baseFingerprint = fingerprint(this.baseState());
    this.options.log.info({ systemNamespace: this.options.systemNamespace, exclude: this.options.exclude.text }, 'propagation started');
    this.startPass(term, 'leadership');
    term.resyncTimer = setInterval(() => this.startPass(term, 'resync'), this.options.resyncPeriodMs);
    term.resyncTimer.unref();
  }

  /** Ends the term: no write starts after this returns' first synchronous step; waits for writes in flight. */
  async stop(): Promise<void> {
    const term = this.term;
    if (!term) return;
    this.term = undefined;
    term.isActive = false;
    clearInterval(term.resyncTimer);
    term.abort.abort(new NotLeadingError());
    await term.queue.stop();
    this.options.metrics?.propagationQueueDepth.set(0);
    this.options.log.info('propagation stopped');
  }

  status(): { running: boolean; base: string; copies: number; queueDepth: number; lastPass: LastPass | undefined } {
    const state = this.baseState();
    return {
      running: this.term !== undefined,
      base: state.kind === 'present' ? 'present' : `${state.kind}:${state.why}`,
      copies: this.options.secrets.countedSize,
      queueDepth: this.term?.queue.depth() ?? 0,
      lastPass: this.lastPass,
    };
  }

  /** Starts a full pass now (besides the timer); a no-op unless leading. */
  resync(): void {
    if (this.term) this.startPass(this.term, 'requested');
  }

  /** Resolves when no key is queued or being processed (tests). */
  async idle(): Promise<void> {
    await this.term?.queue.idle();
  }

  private onSecretChange(namespace: string): void {
    this.updateCopiesMetric();
    const term = this.term;
    if (!term) return;
    if (namespace === this.options.systemNamespace) {
      const state = this.baseState();
      const next = fingerprint(state);
      if (next !== this.baseFingerprint) {
        this.baseFingerprint = next;
        this.reportBaseState(state);
        this.startPass(term, 'base changed');
      } else {
        term.queue.add(BASE_KEY);
      }
      return;
    }
    term.queue.add(namespace);
    if (this.baseState().kind === 'absent') term.queue.add(BASE_KEY);
  }

  /** Every known namespace (and any namespace holding a Secret of ours), plus the base key. */
  private startPass(term: Term, trigger: string): void {
    if (!term.isActive) return;
    const namespaces = new Set<string>(this.options.namespaces.keys());
    for (const namespace of this.options.secrets.keys()) namespaces.add(namespace);
    namespaces.delete(this.options.systemNamespace);
    const pass = new Pass(++this.passSeq, namespaces);
    term.pass = pass;
    term.passTrigger = trigger;
    this.options.log.debug({ pass: pass.id, trigger, namespaces: namespaces.size }, 'full reconcile started');
    term.queue.add(BASE_KEY);
    for (const namespace of namespaces) term.queue.add(namespace);
    if (namespaces.size === 0) this.finishPass(term, pass);
  }

  private async reconcile(term: Term, key: string): Promise<void> {
    if (!term.isActive) return;
    if (key === BASE_KEY) return this.reconcileBase(term);
    const pass = term.pass;
    let plan: Plan | undefined;
    try {
      plan = this.planFor(key);
      await this.execute(term, plan);
      this.record(term, pass, key, plan);
    } catch (err) {
      if (!term.isActive || err instanceof NotLeadingError) return;
      if (err instanceof ThrottledError) {
        // Not a failure: the API server asked us to come back later (the queue waits Retry-After).
        this.options.log.debug({ namespace: key, action: plan?.action, retryAfterMs: err.retryAfterMs }, 'write throttled (429); retrying after Retry-After');
        throw err;
      }
      this.onReconcileError(term, pass, key, plan, err);
      throw err;
    }
  }

  private planFor(namespace: string): Plan {
    return planNamespace({
      systemNamespace: this.options.systemNamespace,
      base: this.baseState(),
      namespace,
      namespaceObject: this.options.namespaces.get(namespace),
      exclude: this.options.exclude,
      existing: this.options.secrets.get(namespace),
    });
  }

  private async execute(term: Term, plan: Plan): Promise<void> {
    const { writer } = term;
    switch (plan.action) {
      case 'skip':
        return;
      case 'create':
        await writer.create(plan.body);
        this.options.log.info({ namespace: plan.namespace }, 'copy created');
        return;
      case 'update':
        await writer.update(plan.body);
        if (plan.takeover) this.reportTakeover(plan.namespace);
        else this.options.log.info({ namespace: plan.namespace }, 'copy updated');
        return;
      case 'replace':
        await writer.delete(plan.existing);
        await writer.create(plan.body);
        if (plan.takeover) this.reportTakeover(plan.namespace);
        else this.options.log.info({ namespace: plan.namespace }, 'copy replaced (type changed or immutable)');
        return;
      case 'delete':
        await writer.delete(plan.existing);
        this.options.log.info({ namespace: plan.namespace, why: plan.why }, 'copy deleted');
        if (plan.why === 'base-gone') term.queue.add(BASE_KEY);
        return;
    }
  }

  private async reconcileBase(term: Term): Promise<void> {
    const state = this.baseState();
    const copiesLeft = state.kind === 'absent' ? this.cleanupTargets() : [];
    const action = finalizerAction(state, copiesLeft.length);
    try {
      if (action === 'add' && state.kind === 'present') {
        await term.writer.setBaseFinalizers(state.secret, finalizersAfter(state.secret, 'add'));
        this.options.log.info('finalizer added to the base');
      } else if (action === 'remove' && state.kind === 'absent' && state.secret !== undefined) {
        await term.writer.setBaseFinalizers(state.secret, finalizersAfter(state.secret, 'remove'));
        this.options.log.info({ why: state.why }, 'all copies deleted; finalizer removed from the base');
        this.event(state.secret, 'Normal', 'CleanedUp', `all copies deleted (base ${state.why === 'deleting' ? 'deleted' : 'no longer labelled as the cluster-wide registry'}); finalizer removed`);
      }
    } catch (err) {
      if (!term.isActive || err instanceof NotLeadingError) return;
      if (apiErrorInfo(err).code === 404) return; // the base is gone; its watch event follows
      if (err instanceof ThrottledError) throw err; // the queue retries after Retry-After
      this.options.metrics?.propagationErrors.inc();
      this.options.log.warn({ error: errorText(err) }, 'updating the base finalizer failed; retrying');
      throw err;
    }
    // Cleanup: make sure every namespace still holding a copy is worked on (failing ones wait for their backoff).
    for (const namespace of copiesLeft) if (term.queue.failuresOf(namespace) === 0) term.queue.add(namespace);
  }

  /** Namespaces whose copy must go before the base's finalizer may be removed. */
  private cleanupTargets(): string[] {
    const namespaces: string[] = [];
    for (const secret of this.options.secrets.values()) {
      const namespace = namespaceOf(secret);
      if (namespace === undefined || namespace === this.options.systemNamespace) continue;
      if (isOurCopy(secret, this.sourceRef) && !isUserManagedSecret(secret)) namespaces.push(namespace);
    }
    return namespaces;
  }

  private record(term: Term, pass: Pass | undefined, namespace: string, plan: Plan): void {
    if (plan.action === 'skip' && plan.reason === 'user-managed') {
      this.options.log.debug({ namespace }, 'skipped: the namespace manages its own Secret (managed-by=user)');
    }
    if (pass !== undefined && pass === term.pass && pass.record(namespace, outcomeOf(plan))) this.finishPass(term, pass);
  }

  private onReconcileError(term: Term, pass: Pass | undefined, namespace: string, plan: Plan | undefined, err: unknown): void {
    const info = apiErrorInfo(err);
    // Not failures, just a cache a moment behind: a conflict (the retry sees the newer object), or a
    // namespace that started terminating or went away meanwhile (its watch event settles it).
    const transient =
      info.code === 409 ||
      (info.code === 403 && /being terminated/.test(info.message ?? '')) ||
      (info.code === 404 && plan?.action === 'create');
    if (!transient) this.options.metrics?.propagationErrors.inc();
    const fields = { namespace, action: plan?.action, error: errorText(err), failures: term.queue.failuresOf(namespace) + 1 };
    if (err instanceof WriteBudgetExceededError) {
      this.options.log.error({ ...fields, retryAfterMs: err.retryAfterMs }, 'write budget exhausted: writes paused (possible fight with another writer)');
    } else if (err instanceof GuardError) {
      this.options.log.error(fields, 'write refused by a guard');
    } else if (transient) {
      this.options.log.debug(fields, 'stale cache (conflict or namespace going away); retrying');
    } else {
      this.options.log.warn(fields, 'reconcile failed; retrying with backoff');
    }
    if (transient) return; // not a failure of the pass: the retry records the outcome
    if (plan?.action === 'delete' && plan.why === 'base-gone') {
      const base = this.options.secrets.get(this.options.systemNamespace);
      if (base !== undefined) this.notice(base, 'Warning', 'CleanupFailed', `could not delete the copy in ${namespace}: ${errorText(err)}`);
    }
    if (pass !== undefined && pass === term.pass && pass.record(namespace, { kind: 'failed' })) this.finishPass(term, pass);
  }

  private finishPass(term: Term, pass: Pass): void {
    const summary = pass.summary();
    this.lastPass = { finishedAt: new Date((this.options.now ?? Date.now)()).toISOString(), trigger: term.passTrigger, summary };
    const message = summaryMessage(summary);
    this.options.log.info({ pass: pass.id, trigger: term.passTrigger, ...countsOf(summary) }, 'full reconcile finished');
    const state = this.baseState();
    if (state.kind !== 'present') return;
    const userManaged = summary.userManaged.join(',');
    const userManagedChanged = userManaged !== this.lastReportedUserManaged;
    if (summary.changed || summary.failed.length > 0 || userManagedChanged) {
      this.lastReportedUserManaged = userManaged;
      const failed = summary.failed.length > 0;
      this.event(state.secret, failed ? 'Warning' : 'Normal', failed ? 'PropagationFailed' : 'Propagated', message);
    }
  }

  private reportTakeover(namespace: string): void {
    this.options.log.warn({ namespace }, 'took over an existing Secret of the same name (not created by us, not labelled managed-by=user)');
    const state = this.baseState();
    if (state.kind === 'present') {
      this.notice(
        state.secret,
        'Warning',
        'TakenOver',
        `took over ${namespace}/${COPY_NAME}: it existed without serverless.kyma-project.io/managed-by=user and is now a copy of the cluster-wide registry Secret`,
      );
    }
  }

  private reportBaseState(state: BaseState): void {
    if (state.kind === 'held') {
      this.options.log.warn({ why: state.why, detail: state.detail }, 'the base is not propagated');
      this.event(state.secret, 'Warning', 'NotPropagated', `not propagated: ${state.detail}`);
    } else if (state.kind === 'absent') {
      this.options.log.info({ why: state.why }, 'no base: copies will be deleted');
    } else {
      this.options.log.info({ resourceVersion: state.secret.metadata?.resourceVersion }, 'base changed: propagating');
    }
  }

  private notice(secret: SecretObject, type: EventType, reason: string, message: string): void {
    if (this.noticeLimiter.tryTake()) this.event(secret, type, reason, message);
  }

  private event(secret: SecretObject, type: EventType, reason: string, message: string): void {
    const involved: InvolvedObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: this.options.systemNamespace,
      name: COPY_NAME,
    };
    if (typeof secret.metadata?.uid === 'string') involved.uid = secret.metadata.uid;
    this.options.events?.record(involved, type, reason, message);
  }

  /** Memoised on the cached object's identity: 1,000 namespace reconciles resolve the base once. */
  private baseState(): BaseState {
    const candidate = this.options.secrets.get(this.options.systemNamespace);
    if (this.baseMemo?.candidate !== candidate || this.baseMemo === undefined) {
      this.baseMemo = { candidate, state: resolveBase(candidate, this.options.systemNamespace) };
    }
    return this.baseMemo.state;
  }

  private updateCopiesMetric(): void {
    this.options.metrics?.propagationCopies.set(this.options.secrets.countedSize);
  }
}

/** What makes a base change worth a full pass: its state and desired content, not its resourceVersion. */
function fingerprint(state: BaseState): string {
  if (state.kind === 'present') {
    const { sourceAnnotation: _ignored, ...content } = state.desired;
    return `present:${JSON.stringify(content)}`;
  }
  return state.kind === 'held' ? `held:${state.why}:${state.detail}` : `absent:${state.why}`;
}

function countsOf(s: PassSummary): Record<string, number> {
  return {
    propagated: s.propagated,
    created: s.created,
    updated: s.updated,
    deleted: s.deleted,
    takenOver: s.takenOver,
    userManaged: s.userManaged.length,
    failed: s.failed.length,
  };
}

function errorText(err: unknown): string {
  if (err instanceof GuardError || err instanceof WriteBudgetExceededError) return err.message;
  return describeApiError(err);
}
