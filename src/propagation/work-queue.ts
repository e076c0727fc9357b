/**
 * A work queue keyed by namespace, with client-go's workqueue semantics:
 *  - a key is queued at most once (adding it again while queued is a no-op);
 *  - a key is never processed twice at the same time: added while processing, it runs again after;
 *  - a failure retries the key after a per-key exponential backoff, a success forgets its failures;
 *  - a failure the server asked us to retry later (429 Retry-After) retries the key after that
 *    delay instead, without counting as a failure (it says nothing about the namespace);
 *  - at most `concurrency` keys are processed at once.
 * The global write rate limit is not here but at the writes themselves (most reconciles write
 * nothing and should not wait for a token).
 */

export interface WorkQueueOptions<K> {
  process: (key: K) => Promise<void>;
  concurrency: number;
  backoff: { initialMs: number; maxMs: number };
  /** The delay a failure asks for itself (e.g. a 429's Retry-After); undefined: ordinary backoff. */
  retryAfter?: (error: unknown) => number | undefined;
  /** Called after a failure with the delay before the retry. */
  onFailure?: (key: K, error: unknown, retryInMs: number) => void;
  /** Queued plus waiting-for-retry keys, after every change. */
  onDepth?: (depth: number) => void;
}

export class WorkQueue<K> {
  /** Insertion-ordered: a FIFO with O(1) dedup and removal. */
  private readonly queued = new Set<K>();
  private readonly processing = new Set<K>();
  /** Added while processing: to be queued when the current run ends. */
  private readonly dirty = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly retryTimers = new Map<K, NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly options: WorkQueueOptions<K>) {
    if (!(options.concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
  }

  add(key: K): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.reportDepth();
    this.pump();
  }

  /** Keys waiting to run or to be retried. */
  depth(): number {
    return this.queued.size + this.retryTimers.size;
  }

  /** Consecutive failures of `key` so far. */
  failuresOf(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Resolves when nothing is queued or processing (pending retries do not count). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops queued keys and pending retries, then waits for the keys being processed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queued.clear();
    this.dirty.clear();
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    this.reportDepth();
    await this.idle();
  }

  private pump(): void {
    while (!this.stopped && this.processing.size < this.options.concurrency && this.queued.size > 0) {
      const key = this.queued.values().next().value as K;
      this.queued.delete(key);
      this.processing.add(key);
      this.reportDepth();
      void this.run(key);
    }
  }

  private async run(key: K): Promise<void> {
    let failed = false;
    let error: unknown;
    try {
      await this.options.process(key);
    } catch (err) {
      failed = true;
      error = err;
    }
    this.processing.delete(key);
    if (!this.stopped) {
      if (failed) this.scheduleRetry(key, error);
      else this.forget(key);
      if (this.dirty.delete(key)) this.add(key);
    }
    this.pump();
    if (this.isIdle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private scheduleRetry(key: K, error: unknown): void {
    let delayMs = this.options.retryAfter?.(error);
    if (delayMs === undefined) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const { initialMs, maxMs } = this.options.backoff;
      delayMs = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
    }
    clearTimeout(this.retryTimers.get(key));
    const timer = setTimeout(() => {
      this.retryTimers.delete(key);
      this.add(key);
      this.reportDepth();
    }, delayMs);
    timer.unref();
    this.retryTimers.set(key, timer);
    this.reportDepth();
    this.options.onFailure?.(key, error, delayMs);
  }

  private forget(key: K): void {
    this.failures.delete(key);
    const timer = this.retryTimers.get(key);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.retryTimers.delete(key);
      this.reportDepth();
    }
  }

  private isIdle(): boolean {
    return this.queued.size === 0 && this.processing.size === 0;
  }

  private reportDepth(): void {
    this.options.onDepth?.(this.depth());
  }
}
