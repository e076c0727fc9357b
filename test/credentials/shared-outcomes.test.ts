/**
 * The leader's outcomes as the other replicas use them: the ConfigMap encoding (bounded, no
 * credential, garbage ignored) and when a follower's checker shows a published outcome.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialChecker, type CheckResult } from '../../src/credentials/checker.js';
import { noticeFor } from '../../src/credentials/notices.js';
import type { CredentialStatus } from '../../src/credentials/outcome.js';
import { decodeSharedOutcomes, encodeSharedOutcomes, parseSharedKey, type SharedOutcome } from '../../src/credentials/shared-outcomes.js';
import { CANARY_PASSWORD, namespaceSecret, NAME, SYSTEM } from '../resolver/secrets.js';

const REF = { namespace: 'team-a', name: NAME };
const rejected: CredentialStatus = { state: 'rejected', pushGranted: null, checkedAt: '2026-12-06T20:00:00.000Z', reason: 'GET r.example.com/v2/ (Basic): 401 UNAUTHORIZED' };
const ok: CredentialStatus = { state: 'ok', pushGranted: true, checkedAt: '2026-12-06T20:00:00.000Z', reason: 'login accepted' };

const outcome = (status: CredentialStatus, resourceVersion: string, uid = `uid-team-a-${NAME}`): SharedOutcome => ({ status, secret: { uid, resourceVersion } });
const one = (key: string, value: SharedOutcome) => new Map([[key, value]]);

describe('shared outcomes in a ConfigMap', () => {
  it('round-trips under valid ConfigMap keys, namespace and name split at the first dot', () => {
    const ref = { namespace: 'team-a', name: 'with.dots.in-name' };
    const { data, dropped } = encodeSharedOutcomes(new Map([['x', { ref, outcome: outcome(rejected, '7') }]]));
    expect(dropped).toBe(0);
    expect(Object.keys(data)).toEqual(['team-a.with.dots.in-name']);
    for (const key of Object.keys(data)) expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
    expect(decodeSharedOutcomes(data).get('team-a/with.dots.in-name')).toEqual(outcome(rejected, '7'));
    expect(parseSharedKey('nodot')).toBeUndefined();
  });

  it('truncates reasons to 200 characters', () => {
    const long = { ...rejected, reason: 'x'.repeat(5000) };
    const { data } = encodeSharedOutcomes(new Map([['k', { ref: REF, outcome: outcome(long, '1') }]]));
    expect((JSON.parse(Object.values(data)[0] as string) as { reason: string }).reason).toHaveLength(200);
  });

  it('past the size budget keeps rejected and unreachable outcomes first and counts what it left out', () => {
    const outcomes = new Map<string, { ref: { namespace: string; name: string }; outcome: SharedOutcome }>();
    for (let i = 0; i < 50; i++) outcomes.set(`ok${i}`, { ref: { namespace: `ok-${i}`, name: NAME }, outcome: outcome(ok, '1') });
    for (let i = 0; i < 5; i++) outcomes.set(`bad${i}`, { ref: { namespace: `bad-${i}`, name: NAME }, outcome: outcome(rejected, '1') });
    const { data, dropped } = encodeSharedOutcomes(outcomes, 2500);
    const kept = Object.keys(data);
    expect(kept.filter((k) => k.startsWith('bad-'))).toHaveLength(5);
    expect(kept.length + dropped).toBe(55);
    expect(dropped).toBeGreaterThan(0);
    const size = Object.entries(data).reduce((sum, [k, v]) => sum + k.length + v.length, 0);
    expect(size).toBeLessThanOrEqual(2500);
  });

  it('ignores entries anyone else may have written: not JSON, unknown state, wrong types, bad keys', () => {
    const good = encodeSharedOutcomes(new Map([['k', { ref: REF, outcome: outcome(ok, '1') }]])).data;
    const decoded = decodeSharedOutcomes({
      ...good,
      'team-b.x': 'not json',
      'team-c.x': JSON.stringify({ state: 'great', pushGranted: null, checkedAt: null, reason: '', secretUid: 'u', secretResourceVersion: '1' }),
      'team-d.x': JSON.stringify({ state: 'ok', pushGranted: 'yes', checkedAt: null, reason: '', secretUid: 'u', secretResourceVersion: '1' }),
      'team-e.x': JSON.stringify({ state: 'ok', pushGranted: null, checkedAt: 'yesterday', reason: '', secretUid: 'u', secretResourceVersion: '1' }),
      'team-f.x': '[]',
      nodot: JSON.stringify({ state: 'ok', pushGranted: null, checkedAt: null, reason: '', secretUid: 'u', secretResourceVersion: '1' }),
    });
    expect([...decoded.keys()]).toEqual([`team-a/${NAME}`]);
  });
});

describe('a follower shows the leader\'s outcome', () => {
  const checkers: CredentialChecker[] = [];
  afterEach(async () => {
    for (const checker of checkers.splice(0)) await checker.pause();
  });
  const follower = () => {
    const calls: unknown[] = [];
    const changes: string[] = [];
    const checker = new CredentialChecker({
      systemNamespace: SYSTEM,
      intervalMs: 60_000,
      debounceMs: 10,
      check: async (target) => {
        calls.push(target);
        return { state: 'ok', pushGranted: null, reason: 'fine' };
      },
    });
    checker.onStatusChange((ref) => changes.push(`${ref.namespace}/${ref.name}`));
    checkers.push(checker);
    return { checker, calls, changes };
  };

  it('while the Secret has the credentials it was checked for; pending after they change', () => {
    const { checker, calls, changes } = follower();
    checker.upsert(namespaceSecret('team-a', { rv: '1' }));
    expect(checker.status(REF)?.state).toBe('pending');
    changes.length = 0;
    checker.useShared(one(`team-a/${NAME}`, outcome(rejected, '1')));
    expect(checker.status(REF)).toEqual(rejected);
    expect(changes).toEqual([`team-a/${NAME}`]);
    // A label change (new resourceVersion, same credentials): the outcome still applies.
    checker.upsert(namespaceSecret('team-a', { rv: '2', labels: { 'serverless.kyma-project.io/remote-registry': 'config', extra: 'x' } }));
    expect(checker.status(REF)).toEqual(rejected);
    // New credentials: the published outcome was for the old ones.
    checker.upsert(namespaceSecret('team-a', { rv: '3', plain: { password: 'fixed' } }));
    expect(checker.status(REF)).toMatchObject({ state: 'pending', reason: expect.stringContaining('leader') });
    // ... and watchers hear of it (the resolver's index may have answered with the old outcome first).
    expect(changes).toEqual([`team-a/${NAME}`, `team-a/${NAME}`]);
    // The leader publishes for the new version: the follower hears of it.
    checker.useShared(one(`team-a/${NAME}`, outcome(ok, '3')));
    expect(checker.status(REF)).toEqual(ok);
    expect(changes.at(-1)).toBe(`team-a/${NAME}`);
    expect(calls).toHaveLength(0);
  });

  it('not for a version it has not seen, nor another Secret of the same name (uid)', () => {
    const { checker, changes } = follower();
    checker.upsert(namespaceSecret('team-a', { rv: '5' }));
    changes.length = 0;
    checker.useShared(one(`team-a/${NAME}`, outcome(rejected, '6')));
    expect(checker.status(REF)?.state).toBe('pending');
    checker.useShared(one(`team-a/${NAME}`, outcome(rejected, '5', 'uid-of-a-deleted-one')));
    expect(checker.status(REF)?.state).toBe('pending');
    expect(changes).toEqual([]);
    // Its own watch catches up with the version the leader checked (same credentials): now it applies.
    checker.upsert(namespaceSecret('team-a', { rv: '6' }));
    checker.useShared(one(`team-a/${NAME}`, outcome(rejected, '6')));
    expect(checker.status(REF)).toEqual(rejected);
  });

  it('on taking over, repeats no Event for an outcome the previous leader published', async () => {
    const results: CheckResult[] = [];
    const checker = new CredentialChecker({
      systemNamespace: SYSTEM,
      intervalMs: 60_000,
      debounceMs: 10,
      check: async () => ({ state: 'rejected', code: 'UNAUTHORIZED', reason: 'still wrong' }),
      onResult: (result) => results.push(result),
    });
    checkers.push(checker);
    checker.upsert(namespaceSecret('team-a', { rv: '1' }));
    checker.useShared(one(`team-a/${NAME}`, outcome(rejected, '1')));
    checker.start();
    // Until its own check settles, the new leader answers (and would publish) the previous outcome.
    expect(checker.status(REF)).toEqual(rejected);
    await checker.idle();
    expect(results).toHaveLength(1);
    expect(results[0]?.previous?.state).toBe('rejected');
    expect(noticeFor(results[0] as CheckResult)).toBeUndefined();
  });

  it('publishes only checked outcomes, for the version it sees, never a credential', async () => {
    const { checker } = follower();
    checker.upsert(namespaceSecret('team-a', { rv: '1' }));
    checker.upsert(namespaceSecret('team-b', { rv: '2', drop: ['password'] }));
    expect(checker.publishable().size).toBe(0);
    checker.start();
    await checker.idle();
    const published = [...checker.publishable().values()];
    expect(published).toEqual([{ ref: REF, outcome: { status: expect.objectContaining({ state: 'ok' }), secret: { uid: `uid-team-a-${NAME}`, resourceVersion: '1' } } }]);
    expect(JSON.stringify(encodeSharedOutcomes(checker.publishable()))).not.toContain(CANARY_PASSWORD);
  });
});
