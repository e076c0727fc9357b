/**
 * The leader's check outcomes as every replica reads them: one ConfigMap data key per checked
 * Secret (`<namespace>.<name>`; a namespace holds no dot, so the first dot splits), holding the
 * status and the Secret's uid and resourceVersion it was checked for. No credential and nothing
 * derived from one is stored: a replica decides whether an outcome still applies by comparing
 * resourceVersions it has seen itself (see CredentialChecker.status).
 */
import type { SecretName } from '../registry/precedence.js';
import type { CredentialState, CredentialStatus } from './outcome.js';

export interface SharedOutcome {
  status: CredentialStatus;
  /** The Secret the status was checked for, as the leader saw it when it published. */
  secret: { uid: string; resourceVersion: string };
}

/** ConfigMaps hold at most 1 MiB in all; this leaves room for metadata and managedFields. */
export const SHARED_DATA_BUDGET_BYTES = 900 * 1024;
export const SHARED_REASON_MAX_CHARS = 200;

const STATES: readonly CredentialState[] = ['ok', 'rejected', 'unreachable', 'skipped'];
/** Kept first when the budget is exhausted: the outcomes people must act on. */
const PRIORITY: Record<CredentialState, number> = { rejected: 0, unreachable: 1, skipped: 2, ok: 3, pending: 4 };

export function sharedKey(ref: SecretName): string {
  return `${ref.namespace}.${ref.name}`;
}

export function parseSharedKey(key: string): SecretName | undefined {
  const dot = key.indexOf('.');
  if (dot <= 0 || dot === key.length - 1) return undefined;
  return { namespace: key.slice(0, dot), name: key.slice(dot + 1) };
}

/**
 * The ConfigMap data for `outcomes` (by Secret), within `budgetBytes` of keys and values: past it,
 * rejected and unreachable outcomes are kept first, then skipped, then ok; `dropped` counts the rest.
 */
export function encodeSharedOutcomes(
  outcomes: ReadonlyMap<string, { ref: SecretName; outcome: SharedOutcome }>,
  budgetBytes = SHARED_DATA_BUDGET_BYTES,
): { data: Record<string, string>; dropped: number } {
  const encoded = [...outcomes.values()]
    .filter(({ outcome }) => outcome.status.state !== 'pending')
    .map(({ ref, outcome }) => {
      const { state, pushGranted, checkedAt, reason } = outcome.status;
      const value = JSON.stringify({
        state,
        pushGranted,
        checkedAt,
        reason: truncate(reason, SHARED_REASON_MAX_CHARS),
        secretUid: outcome.secret.uid,
        secretResourceVersion: outcome.secret.resourceVersion,
      });
      return { key: sharedKey(ref), value, priority: PRIORITY[state] };
    })
    .sort((a, b) => a.priority - b.priority || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const data: Record<string, string> = {};
  let used = 0;
  let dropped = 0;
  for (const { key, value } of encoded) {
    const size = Buffer.byteLength(key) + Buffer.byteLength(value);
    if (used + size > budgetBytes) {
      dropped++;
      continue;
    }
    used += size;
    data[key] = value;
  }
  return { data, dropped };
}

/** The outcomes in a ConfigMap's data, by `namespace/name`; malformed entries are left out. */
export function decodeSharedOutcomes(data: Readonly<Record<string, string>> | undefined): Map<string, SharedOutcome> {
  const outcomes = new Map<string, SharedOutcome>();
  for (const [key, value] of Object.entries(data ?? {})) {
    const ref = parseSharedKey(key);
    const outcome = ref === undefined ? undefined : decodeOne(value);
    if (ref !== undefined && outcome !== undefined) outcomes.set(`${ref.namespace}/${ref.name}`, outcome);
  }
  return outcomes;
}

function decodeOne(value: string): SharedOutcome | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const v = parsed as Record<string, unknown>;
  const state = v.state;
  if (typeof state !== 'string' || !(STATES as readonly string[]).includes(state)) return undefined;
  if (!(v.pushGranted === null || typeof v.pushGranted === 'boolean')) return undefined;
  if (!(v.checkedAt === null || (typeof v.checkedAt === 'string' && !Number.isNaN(Date.parse(v.checkedAt))))) return undefined;
  if (typeof v.reason !== 'string' || typeof v.secretUid !== 'string' || typeof v.secretResourceVersion !== 'string') return undefined;
  return {
    status: { state: state as CredentialState, pushGranted: v.pushGranted, checkedAt: v.checkedAt, reason: truncate(v.reason, SHARED_REASON_MAX_CHARS) },
    secret: { uid: v.secretUid, resourceVersion: v.secretResourceVersion },
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
