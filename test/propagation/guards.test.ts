import { describe, expect, it } from 'vitest';
import { assertBaseTarget, assertCopyTarget, GuardError, isOurCopy, totalWriteBudget, WriteBudget, WriteBudgetExceededError } from '../../src/propagation/guards.js';
import { baseSecret, NAME, OURS, OURS_VALUE, secretIn, SOURCE, SYSTEM_NS } from './support.js';

describe('hard guards', () => {
  it('never writes a copy into the system namespace or under another name', () => {
    expect(() => assertCopyTarget({ namespace: SYSTEM_NS, name: NAME }, SYSTEM_NS)).toThrow(GuardError);
    expect(() => assertCopyTarget({ namespace: '', name: NAME }, SYSTEM_NS)).toThrow(GuardError);
    expect(() => assertCopyTarget({ namespace: 'team-a', name: 'other' }, SYSTEM_NS)).toThrow(GuardError);
    expect(() => assertCopyTarget({ namespace: 'team-a', name: NAME }, SYSTEM_NS)).not.toThrow();
  });

  it('patches only the base: system namespace, its name, never a Secret carrying our copy label', () => {
    expect(() => assertBaseTarget(baseSecret(), SYSTEM_NS)).not.toThrow();
    expect(() => assertBaseTarget(baseSecret({ namespace: 'team-a' }), SYSTEM_NS)).toThrow(GuardError);
    expect(() => assertBaseTarget(baseSecret({ labels: { [OURS]: OURS_VALUE } }), SYSTEM_NS)).toThrow(GuardError);
  });

  it('recognises our copies by label and source, not another installation\'s', () => {
    const ref = `${SYSTEM_NS}/${NAME}`;
    expect(isOurCopy(secretIn('a', { labels: { [OURS]: OURS_VALUE } }), ref)).toBe(true);
    expect(isOurCopy(secretIn('a', { labels: { [OURS]: OURS_VALUE }, annotations: { [SOURCE]: `${ref}@5` } }), ref)).toBe(true);
    expect(isOurCopy(secretIn('a', { labels: { [OURS]: OURS_VALUE }, annotations: { [SOURCE]: 'other/x@5' } }), ref)).toBe(false);
    expect(isOurCopy(secretIn('a', { labels: { [OURS]: 'helm' } }), ref)).toBe(false);
  });
});

describe('WriteBudget', () => {
  it('caps writes per namespace and in total per window, and resets with the next window', () => {
    let now = 0;
    const budget = new WriteBudget({ windowMs: 1000, perKey: 2, total: () => 3, now: () => now });
    budget.take('a');
    budget.take('a');
    expect(() => budget.take('a')).toThrow(WriteBudgetExceededError);
    budget.take('b');
    let error: unknown;
    try {
      budget.take('c');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WriteBudgetExceededError);
    expect(error).toMatchObject({ scope: 'total', retryAfterMs: 1000 });
    now = 400;
    expect(() => budget.take('d')).toThrow(expect.objectContaining({ retryAfterMs: 600 }));
    now = 1000;
    budget.take('a');
    budget.take('a');
  });

  it('bounds the writes per window over N namespaces by 4N + a constant', () => {
    expect(totalWriteBudget(1000)).toBe(4020);
    expect(totalWriteBudget(0)).toBe(20);
  });
});
