/**
 * The resolver's in-memory index: plain Secrets in, answers out. It keeps one entry per relevant
 * Secret (never a credential), answers `resolve(namespace)` with three Map/field lookups, and tells
 * subscribers when an answer changes.
 */
import type { SecretObject } from '../kube/objects.js';
import { DEFAULT_REGISTRY_SECRET_NAME, REGISTRY_SECRET_NAME } from '../registry/labels.js';
import {
  registryEntryFromSecret,
  resolveRegistryConfig,
  sameEntry,
  type RegistryEntry,
  type Resolution,
  type SecretName,
} from '../registry/precedence.js';
import { namespaceOf, nameOf } from '../registry/secret-labels.js';
import type { RegistrySecretSink } from './source.js';

export type IndexEvent = { type: 'upsert'; secret: SecretObject } | { type: 'delete'; ref: SecretName };

/**
 * What a `'*'` subscriber hears: one namespace's answer changed, or the cluster-wide or default
 * Secret changed, so every namespace without a deciding Secret of its own may have changed.
 */
export type IndexChange = { type: 'namespace'; namespace: string } | { type: 'global' };

export type ResolutionListener = (resolution: Resolution) => void;
export type IndexChangeListener = (change: IndexChange) => void;

export interface RegistryIndexOptions {
  systemNamespace: string;
  /** A listener threw; the others still ran. Default: ignored. */
  onListenerError?: (error: unknown) => void;
}

export interface RegistryIndexSize {
  /** Relevant Secrets held (cluster-wide, default and namespace-scoped). */
  secrets: number;
  /** Namespaces with a namespace-scoped Secret of their own. */
  namespaces: number;
}

/** The read side the HTTP API needs. */
export interface RegistryConfigReader {
  resolve(namespace: string): Resolution;
  subscribe(namespace: string, listener: ResolutionListener): () => void;
}

/** Where an entry lives: the default Secret, or a namespace's `serverless-registry-config`. */
type Slot = { kind: 'default' } | { kind: 'config'; namespace: string };
interface SlotChange {
  slot: Slot;
  entry: RegistryEntry | undefined;
}

interface Subscription {
  listeners: Set<ResolutionListener>;
  /** The answer last seen for this namespace, serialized: changes are detected against it. */
  last: string;
}

export class RegistryIndex implements RegistrySecretSink, RegistryConfigReader {
  readonly systemNamespace: string;
  private readonly onListenerError: (error: unknown) => void;
  /** Each namespace's `serverless-registry-config`; the system namespace's may be the cluster-wide one. */
  private readonly configSecrets = new Map<string, RegistryEntry>();
  private defaultEntry: RegistryEntry | undefined;
  private namespaceScoped = 0;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly changeListeners = new Set<IndexChangeListener>();

  constructor(options: RegistryIndexOptions) {
    this.systemNamespace = options.systemNamespace;
    this.onListenerError = options.onListenerError ?? (() => {});
  }

  apply(event: IndexEvent): void {
    if (event.type === 'upsert') this.upsert(event.secret);
    else this.delete(event.ref);
  }

  upsert(secret: SecretObject): void {
    const name = nameOf(secret);
    const namespace = namespaceOf(secret);
    if (name === undefined || namespace === undefined) return;
    const slot = this.slotOf({ namespace, name });
    // A Secret that no longer qualifies (label removed) empties its slot.
    if (slot) this.commit([{ slot, entry: this.entryOf(slot, secret) }]);
  }

  delete(ref: SecretName): void {
    const slot = this.slotOf(ref);
    if (slot) this.commit([{ slot, entry: undefined }]);
  }

  /** A full re-list: applies only the differences, so unchanged namespaces hear nothing. */
  replaceAll(secrets: readonly SecretObject[]): void {
    const configSecrets = new Map<string, RegistryEntry>();
    let defaultEntry: RegistryEntry | undefined;
    for (const secret of secrets) {
      const name = nameOf(secret);
      const namespace = namespaceOf(secret);
      const slot = name !== undefined && namespace !== undefined ? this.slotOf({ namespace, name }) : undefined;
      if (slot === undefined) continue;
      // The same ref twice: the later one wins, like a sequence of upserts (even if it no longer qualifies).
      const entry = this.entryOf(slot, secret);
      if (slot.kind === 'default') defaultEntry = entry;
      else if (entry === undefined) configSecrets.delete(slot.namespace);
      else configSecrets.set(slot.namespace, entry);
    }
    const changes: SlotChange[] = [];
    for (const namespace of this.configSecrets.keys()) {
      if (!configSecrets.has(namespace)) changes.push({ slot: { kind: 'config', namespace }, entry: undefined });
    }
    for (const [namespace, entry] of configSecrets) changes.push({ slot: { kind: 'config', namespace }, entry });
    changes.push({ slot: { kind: 'default' }, entry: defaultEntry });
    this.commit(changes);
  }

  /** O(1): at most two Map lookups and one field read. */
  resolve(namespace: string): Resolution {
    const own = this.configSecrets.get(namespace);
    const system = namespace === this.systemNamespace ? own : this.configSecrets.get(this.systemNamespace);
    return resolveRegistryConfig(
      namespace,
      {
        cluster: system?.role === 'cluster' ? system : undefined,
        namespace: own?.role === 'namespace' ? own : undefined,
        default: this.defaultEntry,
      },
      this.systemNamespace,
    );
  }

  /**
   * `subscribe(namespace, listener)`: called with the new answer whenever that namespace's answer
   * changes (not on every event). `subscribe('*', listener)`: every change, see IndexChange.
   * Listeners run synchronously after the change is applied. Returns the unsubscribe function.
   */
  subscribe(namespace: '*', listener: IndexChangeListener): () => void;
  subscribe(namespace: string, listener: ResolutionListener): () => void;
  subscribe(namespace: string, listener: ResolutionListener | IndexChangeListener): () => void {
    if (namespace === '*') {
      const changeListener = listener as IndexChangeListener;
      this.changeListeners.add(changeListener);
      return () => {
        this.changeListeners.delete(changeListener);
      };
    }
    const resolutionListener = listener as ResolutionListener;
    let subscription = this.subscriptions.get(namespace);
    if (subscription === undefined) {
      subscription = { listeners: new Set(), last: answerKey(this.resolve(namespace)) };
      this.subscriptions.set(namespace, subscription);
    }
    // A wrapper per call, so the same function subscribed twice is two subscriptions.
    const wrapped: ResolutionListener = (resolution) => resolutionListener(resolution);
    subscription.listeners.add(wrapped);
    const current = subscription;
    return () => {
      current.listeners.delete(wrapped);
      if (current.listeners.size === 0 && this.subscriptions.get(namespace) === current) this.subscriptions.delete(namespace);
    };
  }

  /** Subscribers right now: per-namespace listeners plus `'*'` listeners. */
  subscriberCount(): number {
    let count = this.changeListeners.size;
    for (const subscription of this.subscriptions.values()) count += subscription.listeners.size;
    return count;
  }

  size(): RegistryIndexSize {
    return { secrets: this.configSecrets.size + (this.defaultEntry ? 1 : 0), namespaces: this.namespaceScoped };
  }

  /** Every entry held (for diagnostics and the propagation controller). */
  *entries(): IterableIterator<RegistryEntry> {
    if (this.defaultEntry) yield this.defaultEntry;
    yield* this.configSecrets.values();
  }

  // -------------------------------------------------------------------------------------------

  /** Only Secrets with these names can ever matter; everything else has no slot. */
  private slotOf(ref: SecretName): Slot | undefined {
    if (ref.name === REGISTRY_SECRET_NAME) return { kind: 'config', namespace: ref.namespace };
    if (ref.name === DEFAULT_REGISTRY_SECRET_NAME && ref.namespace === this.systemNamespace) return { kind: 'default' };
    return undefined;
  }

  /**
   * The entry for `secret`. Same uid and resourceVersion as the entry held: the API server changes
   * the resourceVersion on every write, so the held entry is reused and nothing is decoded again
   * (a periodic re-list of 20,000 Secrets stays cheap).
   */
  private entryOf(slot: Slot, secret: SecretObject): RegistryEntry | undefined {
    const held = this.current(slot);
    const metadata = secret.metadata;
    if (
      held !== undefined &&
      held.resourceVersion !== '' &&
      held.resourceVersion === metadata?.resourceVersion &&
      held.uid === metadata.uid &&
      held.ref.namespace === metadata.namespace &&
      held.ref.name === metadata.name
    ) {
      return held;
    }
    return registryEntryFromSecret(secret, this.systemNamespace);
  }

  private current(slot: Slot): RegistryEntry | undefined {
    return slot.kind === 'default' ? this.defaultEntry : this.configSecrets.get(slot.namespace);
  }

  /** Applies `changes`, then tells exactly the subscribers whose answer changed. */
  private commit(changes: readonly SlotChange[]): void {
    const effective = changes.filter((change) => !sameEntry(this.current(change.slot), change.entry));
    if (effective.length === 0) return;

    let global = false;
    const namespaces = new Set<string>();
    for (const { slot, entry } of effective) {
      const old = this.current(slot);
      if (slot.kind === 'default' || old?.role === 'cluster' || entry?.role === 'cluster') global = true;
      if (slot.kind === 'config') namespaces.add(slot.namespace);
    }

    const before = new Map<string, string>();
    if (this.changeListeners.size > 0) {
      for (const namespace of namespaces) before.set(namespace, answerKey(this.resolve(namespace)));
    }

    for (const { slot, entry } of effective) this.write(slot, entry);

    this.notifySubscribers(global, namespaces);
    if (this.changeListeners.size > 0) this.notifyChangeListeners(global, namespaces, before);
  }

  private write(slot: Slot, entry: RegistryEntry | undefined): void {
    if (slot.kind === 'default') {
      this.defaultEntry = entry;
      return;
    }
    const old = this.configSecrets.get(slot.namespace);
    if (old?.role === 'namespace') this.namespaceScoped--;
    if (entry?.role === 'namespace') this.namespaceScoped++;
    if (entry === undefined) this.configSecrets.delete(slot.namespace);
    else this.configSecrets.set(slot.namespace, entry);
  }

  /** Global changes check every subscribed namespace (subscribers are few), never every namespace. */
  private notifySubscribers(global: boolean, namespaces: ReadonlySet<string>): void {
    const candidates = global ? [...this.subscriptions.keys()] : [...namespaces].filter((ns) => this.subscriptions.has(ns));
    const deliveries: Array<[Subscription, Resolution]> = [];
    for (const namespace of candidates) {
      const subscription = this.subscriptions.get(namespace);
      if (subscription === undefined) continue;
      const resolution = this.resolve(namespace);
      const key = answerKey(resolution);
      if (key === subscription.last) continue;
      subscription.last = key;
      deliveries.push([subscription, resolution]);
    }
    for (const [subscription, resolution] of deliveries) {
      for (const listener of [...subscription.listeners]) this.call(() => listener(resolution));
    }
  }

  private notifyChangeListeners(global: boolean, namespaces: ReadonlySet<string>, before: ReadonlyMap<string, string>): void {
    const changes: IndexChange[] = [];
    if (global) changes.push({ type: 'global' });
    for (const namespace of namespaces) {
      if (before.get(namespace) !== answerKey(this.resolve(namespace))) changes.push({ type: 'namespace', namespace });
    }
    for (const change of changes) {
      for (const listener of [...this.changeListeners]) this.call(() => listener(change));
    }
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.onListenerError(error);
    }
  }
}

/** Answers compare by content: field order is fixed by resolveRegistryConfig. */
function answerKey(resolution: Resolution): string {
  return JSON.stringify(resolution);
}
