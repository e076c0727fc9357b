/**
 * A full reconcile pass over every namespace and its summary, the one Event a pass may produce
 * ("propagated to N namespaces, M skipped as user-managed, K failed"): 1,000 namespaces make one
 * Event, not 1,000.
 */
import type { Plan, SkipReason } from './plan.js';

export type Outcome =
  | { kind: 'written'; action: 'create' | 'update' | 'replace' | 'delete'; takeover: boolean }
  | { kind: 'skipped'; reason: SkipReason }
  | { kind: 'failed' };

export interface PassSummary {
  /** Namespaces that hold a current copy after the pass (written or already up to date). */
  propagated: number;
  created: number;
  updated: number;
  deleted: number;
  takenOver: number;
  userManaged: string[];
  failed: string[];
  /** Anything written at all. */
  changed: boolean;
}

export function outcomeOf(plan: Plan): Outcome {
  if (plan.action === 'skip') return { kind: 'skipped', reason: plan.reason };
  return {
    kind: 'written',
    action: plan.action,
    takeover: plan.action === 'update' || plan.action === 'replace' ? plan.takeover : false,
  };
}

export class Pass {
  private readonly pending: Set<string>;
  private readonly outcomes = new Map<string, Outcome>();

  constructor(
    readonly id: number,
    namespaces: Iterable<string>,
  ) {
    this.pending = new Set(namespaces);
  }

  /** Records the first outcome of `namespace` in this pass; true when this completed the pass. */
  record(namespace: string, outcome: Outcome): boolean {
    if (!this.pending.delete(namespace)) return false;
    this.outcomes.set(namespace, outcome);
    return this.pending.size === 0;
  }

  isComplete(): boolean {
    return this.pending.size === 0;
  }

  summary(): PassSummary {
    const s: PassSummary = { propagated: 0, created: 0, updated: 0, deleted: 0, takenOver: 0, userManaged: [], failed: [], changed: false };
    for (const [namespace, outcome] of this.outcomes) {
      if (outcome.kind === 'failed') {
        s.failed.push(namespace);
      } else if (outcome.kind === 'skipped') {
        if (outcome.reason === 'up-to-date') s.propagated++;
        if (outcome.reason === 'user-managed') s.userManaged.push(namespace);
      } else {
        s.changed = true;
        if (outcome.takeover) s.takenOver++;
        if (outcome.action === 'create') s.created++;
        else if (outcome.action === 'delete') s.deleted++;
        else s.updated++;
        if (outcome.action !== 'delete') s.propagated++;
      }
    }
    s.userManaged.sort();
    s.failed.sort();
    return s;
  }
}

/** "propagated to 998 namespaces (3 created, 1 updated, 0 deleted), 2 skipped as user-managed, 1 failed: ns-a". */
export function summaryMessage(s: PassSummary): string {
  const parts = [
    `propagated to ${s.propagated} namespace${s.propagated === 1 ? '' : 's'} (${s.created} created, ${s.updated} updated, ${s.deleted} deleted)`,
    `${s.userManaged.length} skipped as user-managed${listed(s.userManaged)}`,
    `${s.failed.length} failed${listed(s.failed)}`,
  ];
  return parts.join(', ');
}

/** Up to five names, enough to start looking; Event messages are capped at 1 KiB. */
function listed(names: readonly string[]): string {
  if (names.length === 0) return '';
  const shown = names.slice(0, 5).join(' ');
  return names.length > 5 ? ` (${shown} and ${names.length - 5} more)` : ` (${shown})`;
}
