/**
 * A bound on the API calls made on callers' behalf (TokenReview, SubjectAccessReview): at most
 * `perSecond` started per second (burst of one second's worth) and `maxInFlight` at once. Past
 * either, the call is refused at once, never queued: a caller waiting here would hold a
 * connection, and a flood would turn into latency for everyone. When the API server itself
 * answers 429 with Retry-After, every call is refused until that time has passed.
 */
import { TokenBucket } from '../../kube/token-bucket.js';

export type BudgetRefusal = 'rate' | 'in-flight' | 'apiserver-throttled';

/** Thrown (and answered 429 + Retry-After) when a review may not be made now. */
export class ReviewBudgetExceeded extends Error {
  constructor(
    readonly refusal: BudgetRefusal,
    readonly retryAfterSeconds: number,
  ) {
    super(`review budget exceeded (${refusal}); retry after ${retryAfterSeconds} s`);
    this.name = 'ReviewBudgetExceeded';
  }
}

export interface ReviewBudgetOptions {
  perSecond: number;
  maxInFlight: number;
  now?: () => number;
}

export class ReviewBudget {
  private readonly bucket: TokenBucket;
  private inFlight = 0;
  private pausedUntil = 0;
  private readonly now: () => number;

  constructor(private readonly options: ReviewBudgetOptions) {
    this.now = options.now ?? Date.now;
    this.bucket = new TokenBucket(options.perSecond, Math.max(1, options.perSecond), this.now);
  }

  /** Runs `call` if the budget allows one more now, else throws ReviewBudgetExceeded at once. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const pausedFor = this.pausedUntil - this.now();
    if (pausedFor > 0) throw new ReviewBudgetExceeded('apiserver-throttled', Math.ceil(pausedFor / 1000));
    if (this.inFlight >= this.options.maxInFlight) throw new ReviewBudgetExceeded('in-flight', 1);
    if (!this.bucket.tryTake()) throw new ReviewBudgetExceeded('rate', Math.max(1, Math.ceil(1 / this.options.perSecond)));
    this.inFlight++;
    try {
      return await call();
    } finally {
      this.inFlight--;
    }
  }

  /** The API server answered 429: make no call on anyone's behalf for `seconds`. */
  pauseFor(seconds: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + seconds * 1000);
  }

  get active(): number {
    return this.inFlight;
  }
}
