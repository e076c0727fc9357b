/**
 * One open WATCH: newline-delimited JSON events on a chunked 200 response. Store events are
 * filtered per watcher with the real selector semantics: an object that stops matching is sent as
 * DELETED (its previous state, carrying the new resourceVersion), one that starts matching as
 * ADDED, non-matching changes produce nothing. BOOKMARKs carry only kind, apiVersion, the
 * resourceVersion and Go's zero-value fields.
 */
import type { ServerResponse } from 'node:http';
import type { ResourceKind } from './kinds.js';
import type { ObjectFilter } from './list.js';
import { applyShape } from './shape.js';
import type { StatusBody } from './status.js';
import type { StoreEvent } from './store.js';
import type { KubeObject, StoredObject, WatchEventType } from './types.js';

export interface WatchInfo {
  readonly id: number;
  readonly kind: ResourceKind;
  readonly namespace: string | undefined;
  readonly query: Readonly<Record<string, string>>;
  readonly allowBookmarks: boolean;
}

export interface WatchStreamOptions {
  readonly view: (stored: StoredObject) => KubeObject;
  readonly filter: ObjectFilter;
  readonly headers: Readonly<Record<string, string>>;
  readonly currentResourceVersion: () => number;
  /** Server-side end of the stream (`timeoutSeconds`). */
  readonly timeoutMs?: number;
  /** Periodic bookmarks (if allowed); one is also sent shortly before the timeout. */
  readonly bookmarkIntervalMs?: number;
  readonly onClose: () => void;
}

export class WatchStream {
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    readonly info: WatchInfo,
    private readonly res: ServerResponse,
    private readonly options: WatchStreamOptions,
  ) {
    res.writeHead(200, { ...options.headers });
    res.flushHeaders(); // clients resolve on headers; the real server sends nothing else at start
    res.on('close', () => this.cleanup());
    const { timeoutMs, bookmarkIntervalMs } = options;
    if (timeoutMs !== undefined) {
      this.timers.push(setTimeout(() => this.end(), timeoutMs));
      if (info.allowBookmarks && timeoutMs >= 200) {
        this.timers.push(setTimeout(() => this.bookmark(), Math.max(timeoutMs - 1000, Math.floor(timeoutMs * 0.75))));
      }
    }
    if (bookmarkIntervalMs !== undefined && info.allowBookmarks) this.timers.push(setInterval(() => this.bookmark(), bookmarkIntervalMs));
    for (const timer of this.timers) timer.unref();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Sends one event line. */
  send(type: WatchEventType, object: KubeObject | StatusBody): void {
    if (this.closed) return;
    this.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** Current state as synthetic ADDED events (watch without resourceVersion, or "0"). */
  sendInitial(objects: readonly StoredObject[]): void {
    for (const stored of objects) {
      const object = this.options.view(stored);
      if (this.options.filter(object)) this.send('ADDED', object);
    }
  }

  /** Applies a store event to this watcher's selection. */
  deliver(event: StoreEvent): void {
    if (this.closed || event.table !== this.info.kind.table) return;
    const { view, filter } = this.options;
    if (event.type === 'DELETED') {
      const last = view(event.object);
      if (filter(last)) this.send('DELETED', last);
      return;
    }
    const now = view(event.object);
    const before = event.previous ? view(event.previous) : undefined;
    const wasIn = before ? filter(before) : false;
    const isIn = filter(now);
    if (isIn) this.send(wasIn ? 'MODIFIED' : 'ADDED', now);
    else if (wasIn && before) {
      // Left the selection: its previous state, with the resourceVersion of the change.
      before.metadata = { ...before.metadata, resourceVersion: String(event.rv) };
      this.send('DELETED', before);
    }
  }

  bookmark(annotations?: Record<string, string>): void {
    if (!this.info.allowBookmarks) return;
    const { kind } = this.info;
    const metadata: Record<string, unknown> = { resourceVersion: String(this.options.currentResourceVersion()) };
    if (annotations) metadata.annotations = annotations;
    const object = applyShape({ ...structuredClone(kind.zeroValues ?? {}), kind: kind.kind, apiVersion: kind.apiVersion, metadata }, kind.fullShape);
    this.send('BOOKMARK', object as KubeObject);
  }

  /** Ends the chunked body cleanly, as the server does when timeoutSeconds runs out. */
  end(): void {
    if (this.closed) return;
    this.res.end();
    this.cleanup();
  }

  /** Cuts the connection abruptly (network failure, apiserver restart). */
  drop(): void {
    if (this.closed) return;
    this.res.socket?.destroy();
    this.res.destroy();
    this.cleanup();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.options.onClose();
  }
}
