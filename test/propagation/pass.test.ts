import { describe, expect, it } from 'vitest';
import { Pass, summaryMessage } from '../../src/propagation/pass.js';

describe('Pass', () => {
  it('completes when every namespace reported once, counting first outcomes only', () => {
    const pass = new Pass(1, ['a', 'b', 'c', 'd', 'e', 'f']);
    expect(pass.record('a', { kind: 'written', action: 'create', takeover: false })).toBe(false);
    expect(pass.record('a', { kind: 'failed' })).toBe(false); // second outcome ignored
    pass.record('b', { kind: 'skipped', reason: 'up-to-date' });
    pass.record('c', { kind: 'skipped', reason: 'user-managed' });
    pass.record('d', { kind: 'failed' });
    pass.record('e', { kind: 'written', action: 'update', takeover: true });
    expect(pass.record('zz', { kind: 'failed' })).toBe(false); // not part of the pass
    expect(pass.record('f', { kind: 'skipped', reason: 'excluded' })).toBe(true);
    const s = pass.summary();
    expect(s).toEqual({ propagated: 3, created: 1, updated: 1, deleted: 0, takenOver: 1, userManaged: ['c'], failed: ['d'], changed: true });
    expect(summaryMessage(s)).toBe('propagated to 3 namespaces (1 created, 1 updated, 0 deleted), 1 skipped as user-managed (c), 1 failed (d)');
  });

  it('lists at most five names in the message', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const pass = new Pass(1, names);
    for (const n of names) pass.record(n, { kind: 'failed' });
    expect(summaryMessage(pass.summary())).toBe(
      'propagated to 0 namespaces (0 created, 0 updated, 0 deleted), 0 skipped as user-managed, 7 failed (a b c d e and 2 more)',
    );
  });

  it('reports no change when everything was up to date', () => {
    const pass = new Pass(1, ['a']);
    pass.record('a', { kind: 'skipped', reason: 'up-to-date' });
    expect(pass.summary().changed).toBe(false);
    expect(summaryMessage(pass.summary())).toBe('propagated to 1 namespace (0 created, 0 updated, 0 deleted), 0 skipped as user-managed, 0 failed');
  });
});
