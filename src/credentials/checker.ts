/**
 * The scheduler of credential checks, off the admission path: it hears the resolver's Secrets (as
 * a RegistrySecretSink), checks a config shortly after it changes (debounced), again every
 * interval, at most `concurrency` at once, and reuses the last outcome while username, password and
 * addresses are unchanged. It checks only while active (the propagation leader); an inactive
 * replica keeps tracking Secrets so it can take over at once, and shows the leader's published
 * outcomes (useShared) while they were checked for the credentials it sees now.
 *
 * Credentials stay in this process's memory only (the check needs them again every interval);
 * changes are detected by an HMAC with a per-process random key, so nothing stored or shown can be
 * used to test password guesses.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { SecretObject } from '../kube/objects.js';
import { describeProblems, readRegistryCredentials } from '../registry/credentials.js';
import { COPY_MANAGED_BY_LABEL, COPY_MANAGED_BY_VALUE } from '../propagation/names.js';
import { hasLabel } from '../registry/secret-labels.js';
import { registryEntryFromSecret, type RegistrySource, type SecretName } from '../registry/precedence.js';
import type { RegistrySecretSink } from '../resolver/source.js';
import type { LoginTarget } from './login.js';
import { statusOf, type CheckOutcome, type CredentialState, type CredentialStatus } from './outcome.js';
import type { SharedOutcome } from './shared-outcomes.js';

export interface CheckedSecret {
  ref: SecretName;
  uid: string;
  role: RegistrySource;
}

/** What changed for one Secret; `changed`: its credentials changed since the last settled outcome. */
export interface CheckResult {
  secret: CheckedSecret;
  previous: CredentialStatus | undefined;
  next: CredentialStatus;
  changed: boolean;
}

export interface CredentialCheckerOptions {
  systemNamespace: string;
  /** The login check (checkLogin with the address policy, timeout and CAs bound). */
  check: (target: LoginTarget) => Promise<CheckOutcome>;
  intervalMs: number;
  /** Wait after a change before checking, so a burst of writes costs one login. */
  debounceMs?: number;
  concurrency?: number;
  /** Called with every settled outcome (not for pending). Must not throw. */
  onResult?: (result: CheckResult) => void;
  /** Called when what this replica would publish may have changed (see publishable). Must not throw. */
  onPublishable?: () => void;
  now?: () => number;
}

interface Entry {
  secret: CheckedSecret;
  target: LoginTarget | undefined;
  /** Why there is nothing to check (invalid Secret, no credentials). */
  skip: string | undefined;
  fingerprint: string;
  status: CredentialStatus;
  /** The last settled (non-pending) status, and whether credentials changed since. */
  settled: CredentialStatus | undefined;
  changed: boolean;
  debounce: NodeJS.Timeout | undefined;
  resourceVersion: string;
  /** The resourceVersions this replica saw with these same credentials (newest last, bounded). */
  versions: string[];
}

/** How many resourceVersions with unchanged credentials a replica remembers per Secret. */
const VERSIONS_KEPT = 16;

const PENDING_REASON = 'not checked yet';
const INACTIVE_REASON = 'not checked yet: the propagation leader checks and has not published an outcome for this version of the Secret';

export class CredentialChecker implements RegistrySecretSink {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly key = randomBytes(32);
  private readonly now: () => number;
  private readonly debounceMs: number;
  private readonly concurrency: number;
  private active = false;
  private interval: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(secret: SecretName) => void>();
  /**
   * Logins by fingerprint: Secrets with the same credentials and addresses (the same robot account
   * in many namespaces) share one login in flight, and one outcome for half an interval.
   */
  private readonly inFlight = new Map<string, Promise<CheckOutcome>>();
  private readonly recent = new Map<string, { outcome: CheckOutcome; at: number }>();
  /** The leader's published outcomes, by `namespace/name`. */
  private shared = new Map<string, SharedOutcome>();

  constructor(private readonly options: CredentialCheckerOptions) {
    this.now = options.now ?? Date.now;
    this.debounceMs = options.debounceMs ?? 500;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
  }

  /** Begins checking: everything known is checked once, then on change and every interval. */
  start(): void {
    if (this.active) return;
    this.active = true;
    // The previous leader's outcomes stand for the last known state, so a takeover repeats no Event.
    for (const [key, entry] of this.entries) {
      const shared = this.sharedFor(key, entry);
      if (entry.settled === undefined && shared !== undefined) entry.settled = shared.status;
    }
    for (const key of this.entries.keys()) this.enqueue(key);
    this.interval = setInterval(() => {
      const now = this.now();
      for (const [fingerprint, { at }] of this.recent) if (now - at >= this.options.intervalMs / 2) this.recent.delete(fingerprint);
      for (const key of this.entries.keys()) this.enqueue(key);
    }, this.options.intervalMs);
    this.interval.unref();
  }

  /** Stops checking (leadership lost, shutdown); running checks finish, their outcomes are kept. */
  async pause(): Promise<void> {
    this.active = false;
    clearInterval(this.interval);
    this.interval = undefined;
    for (const entry of this.entries.values()) {
      clearTimeout(entry.debounce);
      entry.debounce = undefined;
    }
    this.queue.length = 0;
    this.queued.clear();
    await Promise.allSettled([...this.running]);
  }

  isActive(): boolean {
    return this.active;
  }

  /**
   * The status for the Secret `ref` (undefined when it is not a registry config this checker knows):
   * the checker's own outcome while it checks, else the leader's published one when it was checked
   * for a version of the Secret with the credentials this replica sees now, else pending.
   */
  status(ref: SecretName): CredentialStatus | undefined {
    const key = keyOf(ref);
    const entry = this.entries.get(key);
    return entry === undefined ? undefined : this.effective(key, entry);
  }

  /** Takes the leader's published outcomes (by `namespace/name`); listeners hear of every status that changes. */
  useShared(outcomes: Map<string, SharedOutcome>): void {
    const touched = new Set([...this.shared.keys(), ...outcomes.keys()].filter((key) => this.entries.has(key)));
    const before = new Map([...touched].map((key) => [key, this.status(this.entries.get(key)!.secret.ref)!]));
    this.shared = outcomes;
    for (const key of touched) {
      const entry = this.entries.get(key)!;
      if (!sameStatus(before.get(key)!, this.effective(key, entry))) this.notify(entry.secret.ref);
    }
    this.options.onPublishable?.();
  }

  /**
   * What this replica would publish: every checked config's outcome (configs with nothing to check
   * are decided alike by every replica and left out), for the Secret's version as seen now.
   */
  publishable(): Map<string, { ref: SecretName; outcome: SharedOutcome }> {
    const out = new Map<string, { ref: SecretName; outcome: SharedOutcome }>();
    for (const [key, entry] of this.entries) {
      if (entry.target === undefined) continue;
      const status = this.effective(key, entry);
      if (status.state === 'pending') continue;
      out.set(key, { ref: entry.secret.ref, outcome: { status, secret: { uid: entry.secret.uid, resourceVersion: entry.resourceVersion } } });
    }
    return out;
  }

  /** Calls `listener` whenever the status of a Secret changes; returns the unsubscribe function. */
  onStatusChange(listener: (secret: SecretName) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** How many configs are in each state (for the metric). */
  counts(): Record<CredentialState, number> {
    const counts: Record<CredentialState, number> = { ok: 0, rejected: 0, unreachable: 0, skipped: 0, pending: 0 };
    for (const [key, entry] of this.entries) counts[this.effective(key, entry).state]++;
    return counts;
  }

  /** Resolves when nothing is queued, debounced or running (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.running.size > 0) await Promise.allSettled([...this.running]);
      else if (this.queue.length > 0 || [...this.entries.values()].some((e) => e.debounce !== undefined)) await new Promise((r) => setTimeout(r, 20));
      else return;
    }
  }

  // RegistrySecretSink ---------------------------------------------------------------------------

  replaceAll(secrets: readonly SecretObject[]): void {
    const seen = new Set<string>();
    for (const secret of secrets) {
      const key = this.track(secret);
      if (key !== undefined) seen.add(key);
    }
    for (const key of [...this.entries.keys()]) if (!seen.has(key)) this.forget(key);
  }

  upsert(secret: SecretObject): void {
    const key = this.track(secret);
    const ref = refOf(secret);
    if (key === undefined && ref !== undefined) this.forget(keyOf(ref));
  }

  delete(ref: SecretName): void {
    this.forget(keyOf(ref));
  }

  // ---------------------------------------------------------------------------------------------

  /** Records the Secret; returns its key, or undefined when it is not a registry config. */
  private track(secret: SecretObject): string | undefined {
    // A periodic re-list hands every Secret again: same uid and resourceVersion, nothing to decode.
    const ref = refOf(secret);
    const held = ref === undefined ? undefined : this.entries.get(keyOf(ref));
    if (held !== undefined && held.resourceVersion !== '' && held.resourceVersion === secret.metadata?.resourceVersion && held.secret.uid === secret.metadata?.uid) return keyOf(held.secret.ref);
    const entry = registryEntryFromSecret(secret, this.options.systemNamespace);
    if (entry === undefined) return undefined;
    const key = keyOf(entry.ref);
    const secretInfo: CheckedSecret = { ref: entry.ref, uid: entry.uid, role: entry.role };
    const { target, skip } = loginTargetOf(secret, this.options.systemNamespace) ?? { target: undefined, skip: 'not a registry config' };
    const fingerprint = this.fingerprint(target, skip);
    if (held !== undefined && held.fingerprint === fingerprint) {
      const before = this.effective(key, held);
      held.secret = secretInfo;
      held.resourceVersion = entry.resourceVersion;
      held.versions = [...held.versions.filter((v) => v !== entry.resourceVersion), entry.resourceVersion].slice(-VERSIONS_KEPT);
      if (!sameStatus(before, this.effective(key, held))) this.notify(held.secret.ref);
      this.options.onPublishable?.();
      return key;
    }
    const fresh: Entry = {
      secret: secretInfo,
      target,
      skip,
      fingerprint,
      status: { state: 'pending', pushGranted: null, checkedAt: null, reason: PENDING_REASON },
      settled: held?.settled,
      changed: held !== undefined,
      debounce: undefined,
      resourceVersion: entry.resourceVersion,
      versions: [entry.resourceVersion],
    };
    // What answers showed so far: the resolver's index hears of a Secret before this checker does.
    const before = held === undefined ? fresh.status : this.effective(key, held);
    if (held) clearTimeout(held.debounce);
    this.entries.set(key, fresh);
    if (skip !== undefined) {
      this.settle(key, fresh, { state: 'skipped', reason: skip }, null);
    } else {
      if (this.active) {
        fresh.debounce = setTimeout(() => {
          fresh.debounce = undefined;
          this.enqueue(key);
        }, this.debounceMs);
      }
      if (!sameStatus(before, this.effective(key, fresh))) this.notify(fresh.secret.ref);
    }
    this.options.onPublishable?.();
    return key;
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    clearTimeout(entry.debounce);
    this.entries.delete(key);
    this.options.onPublishable?.();
  }

  /** The status answers carry (see status). */
  private effective(key: string, entry: Entry): CredentialStatus {
    const own = entry.status;
    // Configs with nothing to check are decided here, as on every replica.
    if (entry.target === undefined) return own;
    const shared = this.sharedFor(key, entry)?.status;
    if (this.active) return own.state !== 'pending' ? own : (shared ?? own);
    // Not checking: the leader's outcome is the current one; an own one from an earlier leadership next.
    if (shared !== undefined) return shared;
    return own.state !== 'pending' ? own : { ...own, reason: INACTIVE_REASON };
  }

  /** The leader's outcome for `entry`, if it was checked for a version with these credentials. */
  private sharedFor(key: string, entry: Entry): SharedOutcome | undefined {
    const shared = this.shared.get(key);
    if (shared === undefined || shared.secret.uid !== entry.secret.uid || !entry.versions.includes(shared.secret.resourceVersion)) return undefined;
    return shared;
  }

  private notify(ref: SecretName): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(ref);
      } catch {
        // A listener's failure is its own; the others still hear.
      }
    }
  }

  private enqueue(key: string): void {
    const entry = this.entries.get(key);
    if (!this.active || entry === undefined || entry.target === undefined || this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  private pump(): void {
    while (this.active && this.running.size < this.concurrency && this.queue.length > 0) {
      const key = this.queue.shift() as string;
      this.queued.delete(key);
      const entry = this.entries.get(key);
      if (entry?.target === undefined) continue;
      const run = this.login(entry.fingerprint, entry.target)
        .then((outcome) => {
          // Only if the Secret still has the credentials that were checked.
          if (this.entries.get(key) === entry) this.settle(key, entry, outcome, new Date(this.now()));
        })
        .finally(() => {
          this.running.delete(run);
          this.pump();
        });
      this.running.add(run);
    }
  }

  /** One login per fingerprint at a time, and none again within half an interval. */
  private login(fingerprint: string, target: LoginTarget): Promise<CheckOutcome> {
    const recent = this.recent.get(fingerprint);
    if (recent !== undefined && this.now() - recent.at < this.options.intervalMs / 2) return Promise.resolve(recent.outcome);
    const running = this.inFlight.get(fingerprint);
    if (running !== undefined) return running;
    const promise = this.options
      .check(target)
      .catch((error: unknown): CheckOutcome => ({ state: 'unreachable', cause: 'protocol', reason: `check failed: ${(error as Error)?.name ?? 'error'}` }))
      .then((outcome) => {
        this.recent.set(fingerprint, { outcome, at: this.now() });
        return outcome;
      })
      .finally(() => this.inFlight.delete(fingerprint));
    this.inFlight.set(fingerprint, promise);
    return promise;
  }

  private settle(key: string, entry: Entry, outcome: CheckOutcome, checkedAt: Date | null): void {
    const next = statusOf(outcome, checkedAt);
    const result: CheckResult = { secret: entry.secret, previous: entry.settled, next, changed: entry.changed };
    const before = this.effective(key, entry);
    entry.status = next;
    entry.settled = next;
    entry.changed = false;
    this.options.onResult?.(result);
    if (!sameStatus(before, this.effective(key, entry))) this.notify(entry.secret.ref);
    this.options.onPublishable?.();
  }

  private fingerprint(target: LoginTarget | undefined, skip: string | undefined): string {
    const material = target === undefined ? ['skip', skip ?? ''] : [target.username, target.password, target.serverAddress, target.registryAddress, String(target.trusted), String(target.plainHttpDefault)];
    return createHmac('sha256', this.key).update(JSON.stringify(material)).digest('base64');
  }
}

/**
 * What a login check of `secret` needs (or why there is nothing to check); undefined when the
 * Secret is no registry config. Configs in the system namespace are trusted (written by
 * administrators); every other namespace's follows the address rules.
 */
export function loginTargetOf(secret: SecretObject, systemNamespace: string): { target: LoginTarget; skip?: undefined } | { target?: undefined; skip: string } | undefined {
  const entry = registryEntryFromSecret(secret, systemNamespace);
  if (entry === undefined) return undefined;
  if (!entry.valid) return { skip: `the Secret is invalid: ${entry.reason}` };
  // Propagation's copies carry the cluster-wide Secret's credentials: checking each would log in once per namespace.
  if (entry.role === 'namespace' && entry.ref.namespace !== systemNamespace && hasLabel(secret, COPY_MANAGED_BY_LABEL, COPY_MANAGED_BY_VALUE)) {
    return { skip: 'a copy of the cluster-wide Secret made by propagation: checked as the cluster-wide Secret' };
  }
  const credentials = readRegistryCredentials(secret);
  if (!credentials.ok) {
    return { skip: entry.role === 'default' ? 'the default (internal) registry Secret carries no username and password' : `the Secret is invalid: ${describeProblems(entry.ref, credentials.problems)}` };
  }
  const trusted = entry.role !== 'namespace' || entry.ref.namespace === systemNamespace;
  const { username, password } = credentials.credentials;
  return { target: { username, password, serverAddress: entry.fields.serverAddress, registryAddress: entry.fields.registryAddress, trusted, plainHttpDefault: entry.fields.isInternal } };
}

/** Equal for answers: a later checkedAt alone is no change worth a MODIFIED. */
function sameStatus(a: CredentialStatus, b: CredentialStatus): boolean {
  return a.state === b.state && a.pushGranted === b.pushGranted && a.reason === b.reason;
}

function keyOf(ref: SecretName): string {
  return `${ref.namespace}/${ref.name}`;
}

function refOf(secret: SecretObject): SecretName | undefined {
  const namespace = secret.metadata?.namespace;
  const name = secret.metadata?.name;
  return typeof namespace === 'string' && typeof name === 'string' ? { namespace, name } : undefined;
}
