/** The scheduler: when checks run, how often, how many at once, and what is reused. */
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialChecker, type CheckResult } from '../../src/credentials/checker.js';
import type { LoginTarget } from '../../src/credentials/login.js';
import { noticeFor } from '../../src/credentials/notices.js';
import type { CheckOutcome } from '../../src/credentials/outcome.js';
import { eventually } from '../support/eventually.js';
import { CANARY_PASSWORD, clusterSecret, defaultSecret, namespaceSecret, SYSTEM } from '../resolver/secrets.js';

const checkers: CredentialChecker[] = [];
afterEach(async () => {
  for (const checker of checkers.splice(0)) await checker.pause();
});

function harness(options: { intervalMs?: number; concurrency?: number; outcome?: (t: LoginTarget) => CheckOutcome; delayMs?: number } = {}) {
  const calls: LoginTarget[] = [];
  const results: CheckResult[] = [];
  let running = 0;
  let maxRunning = 0;
  const checker = new CredentialChecker({
    systemNamespace: SYSTEM,
    intervalMs: options.intervalMs ?? 60_000,
    debounceMs: 30,
    concurrency: options.concurrency ?? 4,
    check: async (target) => {
      calls.push(target);
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, options.delayMs ?? 1));
      running--;
      return options.outcome?.(target) ?? { state: 'ok', pushGranted: null, reason: 'fine' };
    },
    onResult: (result) => results.push(result),
  });
  checkers.push(checker);
  return { checker, calls, results, maxRunning: () => maxRunning };
}

describe('CredentialChecker', () => {
  it('checks a config shortly after it appears, once for a burst of writes', async () => {
    const { checker, calls } = harness();
    checker.start();
    for (let rv = 1; rv <= 5; rv++) checker.upsert(namespaceSecret('team-a', { rv: String(rv), plain: { password: `p${rv}` } }));
    await checker.idle();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.password).toBe('p5');
    expect(checker.status({ namespace: 'team-a', name: 'serverless-registry-config' })).toMatchObject({ state: 'ok', reason: 'fine' });
  });

  it('reuses the outcome while username, password and addresses are unchanged (a new resourceVersion or label is no reason)', async () => {
    const { checker, calls } = harness();
    checker.start();
    checker.upsert(namespaceSecret('team-a', { rv: '1' }));
    await checker.idle();
    checker.upsert(namespaceSecret('team-a', { rv: '2', labels: { 'serverless.kyma-project.io/remote-registry': 'config', extra: 'x' } }));
    checker.replaceAll([namespaceSecret('team-a', { rv: '3' })]);
    await checker.idle();
    expect(calls).toHaveLength(1);
    checker.upsert(namespaceSecret('team-a', { rv: '4', plain: { serverAddress: 'other.example.com' } }));
    await checker.idle();
    expect(calls).toHaveLength(2);
  });

  it('logs in once for many Secrets with the same credentials and addresses', async () => {
    const { checker, calls } = harness({ delayMs: 20 });
    const same = { serverAddress: 'shared.registry.example.com', registryAddress: 'shared.registry.example.com/x' };
    checker.replaceAll(Array.from({ length: 20 }, (_, i) => namespaceSecret(`team-${i}`, { plain: same })));
    checker.start();
    await checker.idle();
    expect(calls).toHaveLength(1);
    expect(checker.counts().ok).toBe(20);
  });

  it('does not check the copies propagation makes of the cluster-wide Secret', async () => {
    const { checker, calls } = harness();
    checker.start();
    const copy = namespaceSecret('team-a', { labels: { 'serverless.kyma-project.io/remote-registry': 'config', 'app.kubernetes.io/managed-by': 'registry-config-webhook' } });
    checker.replaceAll([clusterSecret(), copy]);
    await checker.idle();
    expect(calls.map((c) => c.serverAddress)).toEqual(['cluster.registry.example.com']);
    expect(checker.status({ namespace: 'team-a', name: 'serverless-registry-config' })).toMatchObject({ state: 'skipped', reason: expect.stringContaining('copy') });
  });

  it('checks every config again each interval', async () => {
    const { checker, calls } = harness({ intervalMs: 150 });
    checker.replaceAll([namespaceSecret('team-a'), namespaceSecret('team-b')]);
    checker.start();
    await eventually(() => expect(calls.length).toBeGreaterThanOrEqual(6), 5000);
  });

  it('never runs more checks at once than its concurrency', async () => {
    const { checker, calls, maxRunning } = harness({ concurrency: 2, delayMs: 20 });
    checker.replaceAll(Array.from({ length: 10 }, (_, i) => namespaceSecret(`team-${i}`)));
    checker.start();
    await checker.idle();
    expect(calls).toHaveLength(10);
    expect(maxRunning()).toBe(2);
  });

  it('does not check while inactive (not the leader), and says so', async () => {
    const { checker, calls } = harness();
    checker.upsert(namespaceSecret('team-a'));
    await new Promise((r) => setTimeout(r, 80));
    expect(calls).toHaveLength(0);
    expect(checker.status({ namespace: 'team-a', name: 'serverless-registry-config' })).toMatchObject({ state: 'pending', reason: expect.stringContaining('leader') });
    checker.start();
    await checker.idle();
    expect(calls).toHaveLength(1);
  });

  it('trusts the system namespace (cluster-wide and default Secrets), not the others', async () => {
    const { checker, calls } = harness();
    checker.start();
    checker.replaceAll([clusterSecret(), namespaceSecret('team-a')]);
    await checker.idle();
    const trust = Object.fromEntries(calls.map((c) => [c.serverAddress, c.trusted]));
    expect(trust).toEqual({ 'cluster.registry.example.com': true, 'team-a.registry.example.com': false });
  });

  it('skips Secrets without credentials or invalid ones, without a login', async () => {
    const { checker, calls } = harness();
    checker.start();
    checker.replaceAll([defaultSecret(), namespaceSecret('team-a', { drop: ['password'] })]);
    await checker.idle();
    expect(calls).toHaveLength(0);
    expect(checker.status({ namespace: SYSTEM, name: 'serverless-registry-config-default' })?.state).toBe('skipped');
    expect(checker.status({ namespace: 'team-a', name: 'serverless-registry-config' })).toMatchObject({ state: 'skipped', reason: expect.stringContaining('missing password') });
    expect(checker.counts()).toMatchObject({ skipped: 2 });
  });

  it('forgets deleted Secrets', async () => {
    const { checker } = harness();
    checker.start();
    checker.upsert(namespaceSecret('team-a'));
    await checker.idle();
    checker.delete({ namespace: 'team-a', name: 'serverless-registry-config' });
    expect(checker.status({ namespace: 'team-a', name: 'serverless-registry-config' })).toBeUndefined();
  });

  it('drops an outcome for credentials that changed while it was checked', async () => {
    const { checker, calls } = harness({ delayMs: 80, outcome: (t) => (t.password === 'old' ? { state: 'rejected', code: null, reason: 'old one' } : { state: 'ok', pushGranted: null, reason: 'new one' }) });
    checker.start();
    checker.upsert(namespaceSecret('team-a', { plain: { password: 'old' } }));
    await eventually(() => expect(calls).toHaveLength(1));
    checker.upsert(namespaceSecret('team-a', { rv: '2', plain: { password: 'new' } }));
    await checker.idle();
    expect(checker.status({ namespace: 'team-a', name: 'serverless-registry-config' })).toMatchObject({ state: 'ok', reason: 'new one' });
  });

  it('never keeps a credential in a status or result', async () => {
    const { checker, results } = harness({ outcome: () => ({ state: 'rejected', code: 'UNAUTHORIZED', reason: 'refused' }) });
    checker.start();
    checker.upsert(namespaceSecret('team-a'));
    await checker.idle();
    expect(JSON.stringify(results)).not.toContain(CANARY_PASSWORD);
    expect(JSON.stringify(checker.status({ namespace: 'team-a', name: 'serverless-registry-config' }))).not.toContain(CANARY_PASSWORD);
  });
});

describe('noticeFor (which Event a result deserves)', () => {
  const secret = { ref: { namespace: 'team-a', name: 'serverless-registry-config' }, uid: 'u', role: 'namespace' as const };
  const status = (state: 'ok' | 'rejected' | 'unreachable' | 'pending') => ({ state, pushGranted: null, checkedAt: null, reason: 'r' });
  it('warns on becoming rejected or unreachable, and again after a change that did not fix it', () => {
    expect(noticeFor({ secret, previous: undefined, next: status('rejected'), changed: false })?.reason).toBe('RegistryCredentialsRejected');
    expect(noticeFor({ secret, previous: status('ok'), next: status('unreachable'), changed: false })?.type).toBe('Warning');
    expect(noticeFor({ secret, previous: status('rejected'), next: status('rejected'), changed: false })).toBeUndefined();
    expect(noticeFor({ secret, previous: status('rejected'), next: status('rejected'), changed: true })?.reason).toBe('RegistryCredentialsRejected');
  });
  it('says Normal RegistryCredentialsAccepted on recovery only', () => {
    expect(noticeFor({ secret, previous: status('rejected'), next: status('ok'), changed: true })).toMatchObject({ type: 'Normal', reason: 'RegistryCredentialsAccepted' });
    expect(noticeFor({ secret, previous: undefined, next: status('ok'), changed: false })).toBeUndefined();
    expect(noticeFor({ secret, previous: status('ok'), next: status('ok'), changed: false })).toBeUndefined();
  });
});
