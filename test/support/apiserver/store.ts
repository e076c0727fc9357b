/**
 * The etcd + watch-cache stand-in: one global resourceVersion counter bumped by every write,
 * per-resource tables keyed like etcd keys, and an event history that serves watches from an old
 * resourceVersion and consistent LIST snapshots (continue tokens, resourceVersionMatch=Exact).
 * History older than `oldestResourceVersion` is gone ("compacted"): reading from there is a 410.
 */
import { clone, type StoredObject } from './types.js';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: StoreEventType;
  /** Storage table the event belongs to (see ResourceKind.storage). */
  readonly table: string;
  readonly key: string;
  readonly rv: number;
  /** The new state; for DELETED the last stored state carrying the deletion's resourceVersion. */
  readonly object: StoredObject;
  /** State before the write (MODIFIED, DELETED). */
  readonly previous?: StoredObject;
}

export interface StoreEntry {
  /** etcd-like key: `/<namespace>/<name>` for namespaced objects, `/<name>` otherwise. */
  readonly key: string;
  readonly object: StoredObject;
}

export type StoreListener = (event: StoreEvent) => void;

export function storeKey(namespace: string | undefined, name: string): string {
  return namespace ? `/${namespace}/${name}` : `/${name}`;
}

// Plain code-unit comparison, i.e. etcd's byte order for ASCII keys.
function byKey(a: StoreEntry, b: StoreEntry): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export class ObjectStore {
  private rv: number;
  private oldest: number;
  private readonly tables = new Map<string, Map<string, StoredObject>>();
  private history: StoreEvent[] = [];
  private readonly listeners = new Set<StoreListener>();

  /**
   * @param initialResourceVersion the counter's start; the first write gets the next number.
   * @param historyLimit how many events are retained (the watch-cache window); older ones expire.
   */
  constructor(initialResourceVersion: number, private readonly historyLimit = Number.POSITIVE_INFINITY) {
    this.rv = initialResourceVersion;
    this.oldest = initialResourceVersion;
  }

  get currentResourceVersion(): number {
    return this.rv;
  }

  /** Lowest resourceVersion a watch or a consistent list can still start from. */
  get oldestResourceVersion(): number {
    return this.oldest;
  }

  get(table: string, key: string): StoredObject | undefined {
    const found = this.tables.get(table)?.get(key);
    return found ? clone(found) : undefined;
  }

  /** Current entries sorted by key, optionally only those under `/<namespace>/`. */
  list(table: string, namespace?: string): StoreEntry[] {
    const prefix = namespace ? `/${namespace}/` : '/';
    const entries: StoreEntry[] = [];
    for (const [key, object] of this.tables.get(table) ?? []) {
      if (key.startsWith(prefix)) entries.push({ key, object: clone(object) });
    }
    return entries.sort(byKey);
  }

  /** Entries as they were at `rv` (rolled back from the current state through the history), or undefined if expired. */
  snapshot(table: string, rv: number, namespace?: string): StoreEntry[] | undefined {
    if (rv < this.oldest) return undefined;
    if (rv >= this.rv) return this.list(table, namespace);
    const state = new Map<string, StoredObject>(this.tables.get(table) ?? []);
    for (let i = this.history.length - 1; i >= 0; i--) {
      const event = this.history[i];
      if (!event || event.rv <= rv) break;
      if (event.table !== table) continue;
      if (event.type === 'ADDED') state.delete(event.key);
      else if (event.previous) state.set(event.key, event.previous);
    }
    const prefix = namespace ? `/${namespace}/` : '/';
    const entries: StoreEntry[] = [];
    for (const [key, object] of state) if (key.startsWith(prefix)) entries.push({ key, object: clone(object) });
    return entries.sort(byKey);
  }

  /** Events after `rv` (exclusive), or undefined if part of that range has expired. */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.oldest) return undefined;
    return this.history.filter((e) => e.rv > rv);
  }

  /** Writes `object` under `key`, assigning the next resourceVersion; returns the stored copy. */
  put(table: string, key: string, object: StoredObject): StoredObject {
    const rows = this.rows(table);
    const previous = rows.get(key);
    const rv = ++this.rv;
    const stored = clone(object);
    stored.metadata.resourceVersion = String(rv);
    rows.set(key, stored);
    this.record({ type: previous ? 'MODIFIED' : 'ADDED', table, key, rv, object: stored, previous });
    return clone(stored);
  }

  /** Removes the object; the DELETED event carries its last state with the new resourceVersion. */
  remove(table: string, key: string): StoredObject | undefined {
    const rows = this.rows(table);
    const previous = rows.get(key);
    if (!previous) return undefined;
    rows.delete(key);
    const rv = ++this.rv;
    const object = clone(previous);
    object.metadata.resourceVersion = String(rv);
    this.record({ type: 'DELETED', table, key, rv, object, previous });
    return clone(object);
  }

  /** Forgets history up to `rv` (inclusive): watches/lists from older versions get 410 Expired. */
  compactTo(rv: number): void {
    const target = Math.min(Math.max(rv, this.oldest), this.rv);
    this.history = this.history.filter((e) => e.rv > target);
    this.oldest = target;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private rows(table: string): Map<string, StoredObject> {
    let rows = this.tables.get(table);
    if (!rows) {
      rows = new Map();
      this.tables.set(table, rows);
    }
    return rows;
  }

  private record(event: StoreEvent): void {
    this.history.push(event);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift();
      if (dropped) this.oldest = dropped.rv;
    }
    for (const listener of [...this.listeners]) listener(event);
  }
}
