/**
 * A bound on requests in flight that adapts to the API server (AIMD, as TCP does): it starts at
 * `max` and halves when the server says "too many requests" (HTTP 429). It grows back by one slot
 * per window of `limit` successes: quickly up to one below the limit that was turned away (that
 * much worked before), then slowly, at most a slot per `increaseIntervalMs`, never above `max` nor
 * below `min`. Probing slowly matters: API Priority and Fairness doubles its Retry-After (up to
 * 32 s) while a priority level keeps rejecting, so a client that probes fast makes every client of
 * that level wait longer.
 *
 * One burst of 429s halves once: a 429 only lowers the limit if its request was admitted after
 * the last decrease; answers to requests sent before it say nothing new.
 */

export interface AdaptiveConcurrencyOptions {
  max: number;
  /** Default 1. */
  min?: number;
  /** Least time between two increases. Default 1 s. */
  increaseIntervalMs?: number;
  /** Called whenever the limit changes. */
  onLimit?: (limit: number) => void;
  now?: () => number;
}

/** One admitted request: report how it ended exactly once. */
export interface Permit {
  /** The server answered normally (any status but 429) or the request failed otherwise. */
  done(outcome: 'ok' | 'throttled' | 'other'): void;
}

export class AdaptiveConcurrency {
  private limitValue: number;
  private successes = 0;
  /** The most that worked before the last 429 (one below the limit it turned away). */
  private safeLimit: number;
  private lastChangeMs: number;
  private inFlightCount = 0;
  private epoch = 0;
  private readonly waiters: Array<{ resolve: (permit: Permit) => void; reject: (err: Error) => void; signal: AbortSignal | undefined; onAbort: () => void }> = [];
  private readonly min: number;
  private readonly now: () => number;

  constructor(private readonly options: AdaptiveConcurrencyOptions) {
    this.min = options.min ?? 1;
    if (!(Number.isInteger(options.max) && options.max >= 1)) throw new RangeError('AdaptiveConcurrency needs an integer max >= 1');
    if (!(this.min >= 1 && this.min <= options.max)) throw new RangeError('AdaptiveConcurrency needs 1 <= min <= max');
    this.now = options.now ?? Date.now;
    this.limitValue = options.max;
    this.safeLimit = options.max;
    this.lastChangeMs = this.now();
    options.onLimit?.(this.limit);
  }

  /** Requests allowed in flight now. */
  get limit(): number {
    return this.limitValue;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Resolves with a permit once a slot is free (FIFO); rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.waiters.length === 0 && this.inFlightCount < this.limit) return Promise.resolve(this.admit());
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal?.reason as Error);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private admit(): Permit {
    this.inFlightCount++;
    const epoch = this.epoch;
    let settled = false;
    return {
      done: (outcome) => {
        if (settled) return;
        settled = true;
        this.inFlightCount--;
        const before = this.limitValue;
        if (outcome === 'throttled') {
          this.successes = 0;
          if (epoch === this.epoch) {
            this.epoch++;
            this.safeLimit = Math.max(this.min, this.limitValue - 1);
            this.limitValue = Math.max(this.min, Math.floor(this.limitValue / 2));
          }
        } else if (outcome === 'ok' && ++this.successes >= this.limitValue && this.limitValue < this.options.max) {
          if (this.limitValue < this.safeLimit) {
            this.limitValue++;
          } else if (this.now() - this.lastChangeMs >= (this.options.increaseIntervalMs ?? 1000)) {
            this.safeLimit = this.limitValue; // it held for a while
            this.limitValue++;
          }
        }
        if (this.limitValue !== before) {
          this.successes = 0;
          this.lastChangeMs = this.now();
          this.options.onLimit?.(this.limitValue);
        }
        this.drain();
      },
    };
  }

  private drain(): void {
    while (this.waiters.length > 0 && this.inFlightCount < this.limit) {
      const waiter = this.waiters.shift();
      if (!waiter) return;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.admit());
    }
  }
}
