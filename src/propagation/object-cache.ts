/**
 * An in-memory copy of what a Reflector lists and watches, keyed by one string per object
 * (namespace name; for Secrets, their namespace), reporting every change to a listener.
 * Reconciles read from here and only write to the API server.
 *
 * Our own successful writes are applied at once (`applyWritten`/`applyDeleted`) so the next
 * reconcile does not act on the state before them, but only when the watch has not already
 * reported something newer at that key: a write's response can arrive after the watch events of
 * later changes (someone deleted or replaced the object meanwhile), and applying it then would
 * resurrect a stale object until the next re-list. A watch event older than what is cached is
 * ignored too. Stale state is never a correctness problem, only extra work: a write based on it
 * fails with 409 and is retried.
 *
 * What is kept is `keep(object)`: by default the object without `metadata.managedFields` (nothing
 * here reads them, and at 10,000 namespaces they would be the larger part of the cache).
 */
import type { ReflectorSink } from '../kube/reflector.js';

interface Meta {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string; [key: string]: unknown };
}

export type ChangeListener<T> = (key: string, current: T | undefined, previous: T | undefined) => void;

export class ObjectCache<T extends Meta> implements ReflectorSink<T> {
  private readonly items = new Map<string, T>();
  /** Highest resourceVersion the list/watch reported per key, deletions included. */
  private readonly seen = new Map<string, bigint>();
  private countedItems = 0;
  /** Set by whoever consumes changes (the controller); changes before that are just stored. */
  onChange: ChangeListener<T> | undefined;
  private synced = false;

  constructor(
    private readonly keyOf: (obj: T) => string | undefined,
    /** Objects to keep a running count of (the copies-managed metric). */
    private readonly counted: (obj: T) => boolean = () => false,
    /** What of an object to keep (the rest is garbage at once). */
    private readonly keep: (obj: T) => T = withoutManagedFields,
  ) {}

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  keys(): IterableIterator<string> {
    return this.items.keys();
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }

  get size(): number {
    return this.items.size;
  }

  /** How many objects satisfy the `counted` predicate. */
  get countedSize(): number {
    return this.countedItems;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  replaceAll(items: T[]): void {
    const next = new Map<string, T>();
    for (const item of items) {
      const key = this.keyOf(item);
      if (key !== undefined) next.set(key, this.keep(item));
    }
    const previous = new Map(this.items);
    this.seen.clear();
    for (const [key, item] of next) {
      this.see(key, item);
      const old = previous.get(key);
      previous.delete(key);
      if (old !== undefined && isOlder(item, old)) continue;
      this.set(key, item, old);
    }
    for (const [key, old] of previous) this.delete(key, old);
    this.synced = true;
  }

  upsert(item: T): void {
    const key = this.keyOf(item);
    if (key === undefined) return;
    this.see(key, item);
    this.put(key, this.keep(item));
  }

  remove(item: T): void {
    const key = this.keyOf(item);
    if (key === undefined) return;
    this.see(key, item);
    const old = this.items.get(key);
    // A delayed DELETED of an object we already replaced (same name, new uid) must not drop the new one.
    if (old === undefined || (uidOf(old) !== undefined && uidOf(item) !== undefined && uidOf(old) !== uidOf(item))) return;
    this.delete(key, old);
  }

  /** The object a successful create/update/patch returned (ignored if the watch already reported newer). */
  applyWritten(item: T): void {
    const key = this.keyOf(item);
    const rv = numericRv(item);
    if (key === undefined || rv === undefined) return;
    const seen = this.seen.get(key);
    if (seen !== undefined && rv <= seen) return;
    this.put(key, this.keep(item));
  }

  /** After a successful delete of the object with `uid` at `key`. */
  applyDeleted(key: string, uid: string | undefined): void {
    const old = this.items.get(key);
    if (old === undefined || (uid !== undefined && uidOf(old) !== undefined && uidOf(old) !== uid)) return;
    this.delete(key, old);
  }

  private put(key: string, item: T): void {
    const old = this.items.get(key);
    if (old !== undefined && isOlder(item, old)) return;
    this.set(key, item, old);
  }

  private see(key: string, item: T): void {
    const rv = numericRv(item);
    const seen = this.seen.get(key);
    if (rv !== undefined && (seen === undefined || rv > seen)) this.seen.set(key, rv);
  }

  private set(key: string, item: T, old: T | undefined): void {
    const unchanged = old !== undefined && uidOf(old) === uidOf(item) && rvOf(old) !== undefined && rvOf(old) === rvOf(item);
    this.items.set(key, item);
    this.countedItems += (this.counted(item) ? 1 : 0) - (old !== undefined && this.counted(old) ? 1 : 0);
    if (!unchanged) this.onChange?.(key, item, old);
  }

  private delete(key: string, old: T): void {
    this.items.delete(key);
    if (this.counted(old)) this.countedItems--;
    this.onChange?.(key, undefined, old);
  }
}

export function withoutManagedFields<T extends Meta>(obj: T): T {
  if (obj.metadata === undefined || !('managedFields' in obj.metadata)) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

function numericRv(obj: Meta): bigint | undefined {
  const rv = rvOf(obj);
  return rv !== undefined && /^\d+$/.test(rv) ? BigInt(rv) : undefined;
}

function uidOf(obj: Meta): string | undefined {
  const uid = obj.metadata?.uid;
  return typeof uid === 'string' && uid !== '' ? uid : undefined;
}

function rvOf(obj: Meta): string | undefined {
  const rv = obj.metadata?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

/**
 * `candidate` is an older version of the same object than `current`. resourceVersions are opaque
 * by contract; kube-apiserver's are etcd revisions (decimal), so only those are compared.
 */
function isOlder(candidate: Meta, current: Meta): boolean {
  if (uidOf(candidate) === undefined || uidOf(candidate) !== uidOf(current)) return false;
  const a = rvOf(candidate);
  const b = rvOf(current);
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}
