import { type KubeConfig, Watch } from '@kubernetes/client-node';
import type { Logger } from '../logger.js';
import { Backoff } from './backoff.js';
import { kubeConfigWithUserAgent } from './request-options.js';

/** The least a listed/watched object must have. */
export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; _continue?: string; continue?: string };
}

/** What a reflector feeds: a full state after each list, then single changes. */
export interface ReflectorSink<T> {
  replaceAll(items: T[]): void;
  upsert(item: T): void;
  remove(item: T): void;
}

export type RestartReason = 'gone' | 'error' | 'timeout' | 'resync' | 'stalled';

export interface ReflectorOptions<T> {
  /** For logs: what is reflected, e.g. "secrets remote-registry=config". */
  name: string;
  kubeConfig: KubeConfig;
  /** Sent on the watch requests (the list's User-Agent is the `list` function's business). */
  userAgent: string;
  /** One page of the list; `continue` and `limit` come from the reflector. */
  list: (page: { continue?: string; limit: number }) => Promise<ListPage<T>>;
  /** Watch path, e.g. `/api/v1/secrets`, and selectors, e.g. `{labelSelector: "..."}`. */
  watchPath: string;
  watchQuery?: Record<string, string>;
  sink: ReflectorSink<T>;
  log: Logger;
  /** Full re-list this often (repairs anything a watch may have missed). */
  resyncPeriodMs: number;
  /** Server-side watch timeout; the stream is re-opened from the last resourceVersion after it. */
  watchTimeoutSeconds?: number;
  pageSize?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Called after every successful list and every event (for staleness and metrics). */
  onActivity?: () => void;
  onRestart?: (reason: RestartReason) => void;
}

interface StatusLike {
  code?: number;
  statusCode?: number;
  reason?: string;
}

/**
 * List + watch with the API server's rules, the piece client-go calls a reflector:
 * - paginated list, then a watch from the list's resourceVersion with bookmarks;
 * - the stream's end (server timeout) re-opens the watch from the last resourceVersion seen;
 * - `410 Gone` (an ERROR event in the stream, or HTTP 410 on a list continue) re-lists;
 * - errors reconnect with capped exponential backoff and jitter;
 * - a silent stream (no line, not even a bookmark, for longer than its timeout) is cut;
 * - a full re-list every resync period.
 * client-node's own ListWatch stops on the first error and never re-lists on a timer, hence this.
 */
export class Reflector<T extends KubeObject> {
  private readonly watch: Watch;
  private readonly backoff: Backoff;
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private stopped = false;
  private synced = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private firstSync: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private generation = 0;
  lastActivityAt = 0;

  constructor(private readonly options: ReflectorOptions<T>) {
    this.watch = new Watch(kubeConfigWithUserAgent(options.kubeConfig, options.userAgent));
    this.backoff = new Backoff(options.backoff?.initialMs ?? 500, options.backoff?.maxMs ?? 30_000);
  }

  /** Resolves after the first full list was delivered to the sink. Errors before that are retried. */
  start(): Promise<void> {
    this.stopped = false;
    // A restart after stop() begins from scratch: a fresh list, and start() waits for it again.
    this.synced = false;
    this.resourceVersion = '';
    this.backoff.reset();
    const first = new Promise<void>((resolve, reject) => {
      this.firstSync = { resolve, reject };
    });
    void this.relist();
    this.scheduleResync();
    return first;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.retryTimer);
    clearTimeout(this.resyncTimer);
    clearTimeout(this.stallTimer);
    this.abort?.abort();
    this.abort = undefined;
  }

  private scheduleResync(): void {
    clearTimeout(this.resyncTimer);
    this.resyncTimer = setTimeout(() => {
      if (this.stopped) return;
      this.options.onRestart?.('resync');
      this.restart('resync', 0);
      this.scheduleResync();
    }, this.options.resyncPeriodMs);
    this.resyncTimer.unref();
  }

  /** Drop the current watch and list again after `delayMs`. */
  private restart(reason: RestartReason, delayMs: number): void {
    this.generation++;
    this.abort?.abort();
    this.abort = undefined;
    clearTimeout(this.stallTimer);
    clearTimeout(this.retryTimer);
    this.options.log.debug({ reflector: this.options.name, reason, delayMs }, 're-listing');
    this.retryTimer = setTimeout(() => void this.relist(), delayMs);
    this.retryTimer.unref();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    let items: T[];
    let resourceVersion: string;
    try {
      ({ items, resourceVersion } = await this.listAll());
    } catch (err) {
      if (this.stopped || generation !== this.generation) return;
      const delay = this.backoff.next();
      this.options.log.warn({ reflector: this.options.name, error: describe(err), retryInMs: delay }, 'list failed');
      this.options.onRestart?.('error');
      this.restart('error', delay);
      return;
    }
    if (this.stopped || generation !== this.generation) return;
    this.resourceVersion = resourceVersion;
    this.options.sink.replaceAll(items);
    this.touch();
    // A list went through: the API server is back, so the next failure starts the backoff anew.
    this.backoff.reset();
    if (!this.synced) {
      this.synced = true;
      this.firstSync?.resolve();
    }
    await this.openWatch(generation);
  }

  private async listAll(): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    const limit = this.options.pageSize ?? 500;
    for (;;) {
      let page: ListPage<T>;
      try {
        page = await this.options.list(cont === undefined ? { limit } : { continue: cont, limit });
      } catch (err) {
        // An expired continue token: start the list over (a consistent snapshot matters more).
        if (cont !== undefined && statusCode(err) === 410) {
          items.length = 0;
          cont = undefined;
          continue;
        }
        throw err;
      }
      items.push(...page.items);
      if (resourceVersion === '') resourceVersion = page.metadata?.resourceVersion ?? '';
      cont = page.metadata?._continue ?? page.metadata?.continue;
      if (!cont) break;
    }
    return { items, resourceVersion };
  }

  private async openWatch(generation: number): Promise<void> {
    if (this.stopped || generation !== this.generation) return;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    const query: Record<string, string> = {
      ...this.options.watchQuery,
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(timeoutSeconds),
    };
    let gone = false;
    /** A non-410 ERROR event: the stream's end is a failure (back off), not a server timeout. */
    let failed: StatusLike | undefined;
    const armStallTimer = () => {
      clearTimeout(this.stallTimer);
      // The server ends the stream itself at timeoutSeconds; silence well past that means a dead connection.
      this.stallTimer = setTimeout(() => {
        if (generation !== this.generation) return;
        this.options.log.warn({ reflector: this.options.name }, 'watch stalled; reconnecting');
        this.options.onRestart?.('stalled');
        this.reopen(generation, 0);
      }, (timeoutSeconds + 30) * 1000);
      this.stallTimer.unref();
    };
    armStallTimer();
    let controller: AbortController;
    try {
      controller = await this.watch.watch(
        this.options.watchPath,
        query,
        (type: string, object: unknown) => {
          if (generation !== this.generation) return;
          armStallTimer();
          this.backoff.reset();
          const obj = object as T & StatusLike;
          switch (type) {
            case 'ADDED':
            case 'MODIFIED':
              this.options.sink.upsert(obj);
              break;
            case 'DELETED':
              this.options.sink.remove(obj);
              break;
            case 'BOOKMARK':
              break;
            case 'ERROR':
              if (obj.code === 410) gone = true;
              else {
                failed = obj;
                this.options.log.warn({ reflector: this.options.name, code: obj.code, reason: obj.reason }, 'watch error event');
              }
              return;
            default:
              return;
          }
          const rv = obj.metadata?.resourceVersion;
          if (rv) this.resourceVersion = rv;
          this.touch();
        },
        (err: unknown) => {
          if (this.stopped || generation !== this.generation) return;
          clearTimeout(this.stallTimer);
          if (gone || statusCode(err) === 410) {
            this.options.log.info({ reflector: this.options.name }, 'resourceVersion expired (410 Gone); re-listing');
            this.options.onRestart?.('gone');
            this.restart('gone', 0);
          } else if (err || failed) {
            const delay = this.backoff.next();
            this.options.log.warn({ reflector: this.options.name, error: err ? describe(err) : `ERROR event ${failed?.code ?? ''} ${failed?.reason ?? ''}`.trim(), retryInMs: delay }, 'watch failed; reconnecting');
            this.options.onRestart?.('error');
            this.reopen(generation, delay);
          } else {
            this.options.onRestart?.('timeout');
            this.reopen(generation, 0);
          }
        },
      );
    } catch (err) {
      // Watch.watch rejects (instead of calling done) when the kubeconfig cannot be applied, e.g. an
      // unreadable token file; unhandled, that rejection would end the process.
      if (this.stopped || generation !== this.generation) return;
      clearTimeout(this.stallTimer);
      const delay = this.backoff.next();
      this.options.log.warn({ reflector: this.options.name, error: describe(err), retryInMs: delay }, 'watch could not be opened; retrying');
      this.options.onRestart?.('error');
      this.reopen(generation, delay);
      return;
    }
    if (generation !== this.generation || this.stopped) {
      controller.abort();
      return;
    }
    this.abort = controller;
  }

  /** Re-open the watch from the last resourceVersion (no list) after `delayMs`. */
  private reopen(generation: number, delayMs: number): void {
    if (generation !== this.generation) return;
    this.abort?.abort();
    this.abort = undefined;
    const next = ++this.generation;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.openWatch(next), delayMs);
    this.retryTimer.unref();
  }

  private touch(): void {
    this.lastActivityAt = Date.now();
    this.options.onActivity?.();
  }
}

function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

/** An error's message without bodies (an ApiException's body may carry an object). */
export function describe(err: unknown): string {
  const code = statusCode(err);
  const message = err instanceof Error ? err.message.split('\n')[0]?.slice(0, 200) : String(err).slice(0, 200);
  return code !== undefined ? `HTTP ${code}: ${message}` : (message ?? 'unknown error');
}
