/**
 * Remembered answers of the API server's reviews: bounded (least recently used goes first, so a
 * flood of distinct garbage tokens cannot grow memory), expiring, and single-flight (concurrent
 * lookups of one key share one request). Failed loads are not remembered.
 */

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export interface DecisionCacheOptions<V> {
  maxEntries: number;
  /** How long a value is kept; 0 or less: not kept (in-flight sharing still applies). */
  ttlMs: (value: V) => number;
  now: () => number;
}

export class DecisionCache<V> {
  /** Map order is insertion order: re-inserting on a hit keeps the least recently used first. */
  private readonly entries = new Map<string, Entry<V>>();
  private readonly inFlight = new Map<string, Promise<V>>();

  constructor(private readonly options: DecisionCacheOptions<V>) {}

  /** The remembered value for `key`, else the result of `load()` (shared with concurrent callers). */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      if (entry.expiresAt > this.options.now()) {
        this.entries.set(key, entry);
        return Promise.resolve(entry.value);
      }
    }
    const pending = this.inFlight.get(key);
    if (pending !== undefined) return pending;
    const loading = load().then(
      (value) => {
        this.inFlight.delete(key);
        this.remember(key, value);
        return value;
      },
      (error: unknown) => {
        this.inFlight.delete(key);
        throw error;
      },
    );
    this.inFlight.set(key, loading);
    return loading;
  }

  get size(): number {
    return this.entries.size;
  }

  private remember(key: string, value: V): void {
    const ttlMs = this.options.ttlMs(value);
    if (ttlMs <= 0) return;
    this.entries.set(key, { value, expiresAt: this.options.now() + ttlMs });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}
