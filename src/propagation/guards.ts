/**
 * Hard guards that make a copy loop impossible whatever the planning logic decides: every write
 * passes them, and they throw instead of writing.
 *  - never write a copy into the system namespace (where the base lives);
 *  - never write a Secret of another name;
 *  - never treat a Secret carrying the copy label as a base (see base.ts);
 *  - a bounded number of writes per window: at most a few per namespace, and in total a small
 *    multiple of the number of namespaces, so even a fight with another writer stays bounded.
 */
import { hasLabel, nameOf, namespaceOf } from '../registry/index.js';
import { sourceOf } from './desired-copy.js';
import { COPY_MANAGED_BY_LABEL, COPY_MANAGED_BY_VALUE, COPY_NAME } from './names.js';
import type { SecretObject } from './types.js';

export class GuardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuardError';
  }
}

/** Carries `app.kubernetes.io/managed-by: registry-config-webhook`. */
export function isOurManagedSecret(secret: unknown): boolean {
  return hasLabel(secret, COPY_MANAGED_BY_LABEL, COPY_MANAGED_BY_VALUE);
}

/**
 * A copy this controller made of the base `sourceRef`: our label, and a source annotation naming
 * that base (or none, if someone removed it). Our label with another source is another
 * installation's copy: touching it would start a fight between the two.
 */
export function isOurCopy(secret: SecretObject, sourceRef: string): boolean {
  if (!isOurManagedSecret(secret)) return false;
  const source = sourceOf(secret);
  return source === undefined || source.ref === sourceRef;
}

/** Throws unless a copy may be written at `namespace`. */
export function assertCopyTarget(target: { namespace: string; name: string }, systemNamespace: string): void {
  if (target.namespace === '' || target.namespace === systemNamespace) {
    throw new GuardError(`refusing to write a copy into the system namespace "${systemNamespace}"`);
  }
  if (target.name !== COPY_NAME) {
    throw new GuardError(`refusing to write Secret "${target.name}": only "${COPY_NAME}" copies are managed`);
  }
}

/** Throws unless `secret` is the base (the only Secret in the system namespace the controller patches). */
export function assertBaseTarget(secret: SecretObject, systemNamespace: string): void {
  if (namespaceOf(secret) !== systemNamespace || nameOf(secret) !== COPY_NAME || isOurManagedSecret(secret)) {
    throw new GuardError('refusing to patch a Secret that is not the base');
  }
}

export class WriteBudgetExceededError extends Error {
  constructor(
    readonly scope: 'namespace' | 'total',
    readonly retryAfterMs: number,
  ) {
    super(
      scope === 'namespace'
        ? 'write budget for this namespace exhausted in the current window'
        : 'total write budget exhausted in the current window',
    );
    this.name = 'WriteBudgetExceededError';
  }
}

export interface WriteBudgetOptions {
  windowMs: number;
  /** Writes allowed per key (namespace) per window. */
  perKey: number;
  /** Writes allowed in total per window; read at each write (it follows the namespace count). */
  total: () => number;
  now?: () => number;
}

/** Fixed-window write counter: `take(key)` throws WriteBudgetExceededError past either limit. */
export class WriteBudget {
  private windowStart = Number.NEGATIVE_INFINITY;
  private totalCount = 0;
  private readonly perKeyCount = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: WriteBudgetOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Takes one write for `key`; returns the window it was taken in (for refund). */
  take(key: string): number {
    const now = this.now();
    if (now - this.windowStart >= this.options.windowMs) {
      this.windowStart = now;
      this.totalCount = 0;
      this.perKeyCount.clear();
    }
    const retryAfterMs = this.windowStart + this.options.windowMs - now;
    const used = this.perKeyCount.get(key) ?? 0;
    if (used >= this.options.perKey) throw new WriteBudgetExceededError('namespace', retryAfterMs);
    if (this.totalCount >= this.options.total()) throw new WriteBudgetExceededError('total', retryAfterMs);
    this.perKeyCount.set(key, used + 1);
    this.totalCount++;
    return this.windowStart;
  }

  /** Gives back a write the API server turned away (429): nothing was written. */
  refund(key: string, window: number): void {
    if (window !== this.windowStart) return; // taken in an earlier window, already forgotten
    const used = this.perKeyCount.get(key);
    if (used === undefined || used === 0) return;
    this.perKeyCount.set(key, used - 1);
    this.totalCount = Math.max(0, this.totalCount - 1);
  }
}

/**
 * The total budget per window for `namespaces` namespaces: room for a full pass of replaces (two
 * writes each) twice over, plus slack. A fight over a few copies is stopped by the per-namespace
 * limit long before; this bounds everything else.
 */
export function totalWriteBudget(namespaces: number): number {
  return 4 * namespaces + 20;
}
