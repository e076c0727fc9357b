/**
 * API Priority and Fairness, as recorded (test/fixtures/apiserver-http/apf-*.json, README
 * "Notable facts (APF)"), for one priority level that every matching request falls into:
 *  - `seats` requests are served at once; the next `queueLength` wait (in order) for a seat, at
 *    most `queueWaitMs` (15 s: a quarter of the 60 s request timeout); anything more is rejected
 *    at once (queueLength 0 is limitResponse Reject);
 *  - a rejection is not a Status: HTTP 429 text/plain `Too many requests, please try again later.\n`
 *    with the recorded headers in the recorded order and `Retry-After` in whole seconds;
 *  - Retry-After belongs to the level: 1 s after a short burst; doubled (up to 32) when the last
 *    Retry-After seconds saw at least 3 x Retry-After rejections, at most once per Retry-After
 *    seconds; lowered by 1 when they saw fewer than Retry-After;
 *  - a WATCH needs a seat only while it is set up; an open watch holds none.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { RecordedRequest } from './request-log.js';

export interface PriorityAndFairnessOptions {
  /** Requests served at once. */
  seats: number;
  /** Requests that may wait for a seat; more are rejected at once. Default 0 (Reject). */
  queueLength?: number;
  /** Longest wait in the queue before a 429. Default 15 s. */
  queueWaitMs?: number;
  /** Which requests fall into this level. Default: every request to a resource. */
  where?: (request: RecordedRequest) => boolean;
  /** Clock in ms (tests). */
  now?: () => number;
}

export const APF_REJECTION_BODY = 'Too many requests, please try again later.\n';
const MAX_RETRY_AFTER_SECONDS = 32;

/** A held seat: give it back exactly once when the request is done (or its watch is set up). */
export type Seat = { release(): void };

export class PriorityLevel {
  /** Requests answered 429 so far. */
  rejected = 0;
  /** Requests that got a seat so far. */
  dispatched = 0;
  private inUse = 0;
  private readonly queue: Array<{ grant: (seat: Seat) => void; timer: NodeJS.Timeout }> = [];
  private retryAfterSeconds = 1;
  /** Start of the current Retry-After window; undefined until a rejection starts one. */
  private windowStartMs: number | undefined;
  private readonly rejectionTimes: number[] = [];
  private readonly now: () => number;
  readonly flowSchemaUid = randomUUID();
  readonly priorityLevelUid = randomUUID();

  constructor(readonly options: PriorityAndFairnessOptions) {
    if (!(options.seats >= 1)) throw new RangeError('fake-apiserver: APF needs at least one seat');
    this.now = options.now ?? Date.now;
  }

  matches(request: RecordedRequest): boolean {
    return this.options.where ? this.options.where(request) : request.resource !== undefined;
  }

  /** Seats in use now. */
  get seatsInUse(): number {
    return this.inUse;
  }

  /** The Retry-After (seconds) the level answers with now. */
  get retryAfter(): number {
    this.adjustRetryAfter();
    return this.retryAfterSeconds;
  }

  /** A seat now, a seat after waiting in the queue, or undefined: answer 429. */
  async admit(): Promise<Seat | undefined> {
    if (this.inUse < this.options.seats) return this.take();
    if (this.queue.length >= (this.options.queueLength ?? 0)) return this.reject();
    return new Promise((resolve) => {
      const entry = {
        grant: resolve,
        timer: setTimeout(() => {
          const i = this.queue.indexOf(entry);
          if (i >= 0) this.queue.splice(i, 1);
          resolve(this.reject());
        }, this.options.queueWaitMs ?? 15_000),
      };
      this.queue.push(entry);
    });
  }

  /** The recorded APF 429, byte for byte but for the ids and the date. */
  sendRejection(res: ServerResponse): void {
    const headers = [
      ['Audit-Id', randomUUID()],
      ['Cache-Control', 'no-cache, private'],
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Retry-After', String(this.retryAfter)],
      ['X-Content-Type-Options', 'nosniff'],
      ['X-Kubernetes-Pf-Flowschema-Uid', this.flowSchemaUid],
      ['X-Kubernetes-Pf-Prioritylevel-Uid', this.priorityLevelUid],
      ['Date', new Date(this.now()).toUTCString()],
      ['Content-Length', String(Buffer.byteLength(APF_REJECTION_BODY))],
    ];
    res.sendDate = false; // Date is sent in its recorded place
    res.writeHead(429, 'Too Many Requests', headers.flat());
    res.end(APF_REJECTION_BODY);
  }

  /** Ends queue timers (server close). */
  close(): void {
    for (const entry of this.queue.splice(0)) {
      clearTimeout(entry.timer);
      entry.grant({ release: () => undefined });
    }
  }

  private take(): Seat {
    this.inUse++;
    this.dispatched++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inUse--;
        const next = this.queue.shift();
        if (next) {
          clearTimeout(next.timer);
          next.grant(this.take());
        }
      },
    };
  }

  private reject(): undefined {
    this.rejected++;
    this.rejectionTimes.push(this.now());
    this.adjustRetryAfter();
    return undefined;
  }

  /**
   * Walks the Retry-After windows that ended since the last look, the first one starting at the
   * first rejection: so a single burst is all answered `1` (as recorded: 197 of 197), and
   * sustained rejection doubles it 1, 3, 7, 15 and 31 s after the first.
   */
  private adjustRetryAfter(): void {
    const now = this.now();
    if (this.windowStartMs === undefined) {
      if (this.rejectionTimes.length > 0) this.windowStartMs = this.rejectionTimes[0];
      return;
    }
    for (let end = this.windowStartMs + this.retryAfterSeconds * 1000; end <= now; end = this.windowStartMs + this.retryAfterSeconds * 1000) {
      const start = this.windowStartMs;
      const seen = this.rejectionTimes.filter((t) => t >= start && t < end).length;
      if (seen >= 3 * this.retryAfterSeconds) this.retryAfterSeconds = Math.min(MAX_RETRY_AFTER_SECONDS, this.retryAfterSeconds * 2);
      else if (seen < this.retryAfterSeconds) this.retryAfterSeconds = Math.max(1, this.retryAfterSeconds - 1);
      this.windowStartMs = end;
      while (this.rejectionTimes.length > 0 && (this.rejectionTimes[0] ?? 0) < end) this.rejectionTimes.shift();
      if (this.retryAfterSeconds === 1 && this.rejectionTimes.length === 0) {
        // Quiet at the floor: the next window starts with the next rejection.
        this.windowStartMs = undefined;
        return;
      }
    }
  }
}
