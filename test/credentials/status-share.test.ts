/**
 * Publishing outcomes through the ConfigMap, against the fake API server: the leader's writes are
 * batched (a takeover that checks many configs is a write or two, not one per config), a follower
 * reads them and writes nothing, and keys of deleted configs leave.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialChecker } from '../../src/credentials/checker.js';
import { shareCredentialStatus, type CredentialStatusShare } from '../../src/wiring/credential-status.js';
import { eventually } from '../support/eventually.js';
import { startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { captureLogs } from '../support/log-capture.js';
import { namespaceSecret, NAME, SYSTEM } from '../resolver/secrets.js';

const CONFIG_MAP = 'lease-credential-status';
const TEAMS = Array.from({ length: 20 }, (_, i) => `team-${i}`);

describe('sharing outcomes through the ConfigMap', () => {
  let fake: FakeApiServer | undefined;
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await fake?.close();
  });

  const replica = (identity: string) => {
    let share: CredentialStatusShare | undefined;
    const checker = new CredentialChecker({
      systemNamespace: SYSTEM,
      intervalMs: 60_000,
      debounceMs: 10,
      check: async () => ({ state: 'rejected', code: 'UNAUTHORIZED', reason: 'wrong password' }),
      onPublishable: () => share?.changed(),
    });
    share = shareCredentialStatus({ checker: () => checker, kubeConfig: (fake as FakeApiServer).kubeConfig(), namespace: SYSTEM, name: CONFIG_MAP, identity, log: captureLogs('error').log });
    stops.push(async () => {
      await checker.pause();
      await share?.stop();
    });
    return { checker, share };
  };
  const data = () => fake?.get<{ data?: Record<string, string> }>('configmaps', SYSTEM, CONFIG_MAP)?.data ?? {};
  const writes = () => (fake as FakeApiServer).requests.filter((r) => r.resource === 'configmaps' && r.method !== 'GET');

  it('the leader publishes twenty outcomes in a write or two; the follower shows them and writes nothing', async () => {
    fake = await startFakeApiServer({ namespaces: [SYSTEM, ...TEAMS] });
    const leader = replica('leader');
    const follower = replica('follower');
    await Promise.all([leader.share.start(), follower.share.start()]);
    const secrets = TEAMS.map((team) => namespaceSecret(team, { rv: '1' }));
    leader.checker.replaceAll(secrets);
    follower.checker.replaceAll(secrets);
    leader.checker.start();
    await eventually(() => expect(Object.keys(data())).toHaveLength(TEAMS.length), 5_000);
    await new Promise((r) => setTimeout(r, 1200));
    expect(writes().length).toBeLessThanOrEqual(2);
    expect(writes().every((w) => String(w.headers['user-agent']).includes('(leader)'))).toBe(true);
    await eventually(() => {
      for (const team of TEAMS) expect(follower.checker.status({ namespace: team, name: NAME })).toMatchObject({ state: 'rejected', reason: 'wrong password' });
    });
    expect(follower.checker.counts()).toMatchObject({ rejected: TEAMS.length, pending: 0 });

    // A deleted config's key leaves with the next write.
    leader.checker.delete({ namespace: 'team-0', name: NAME });
    follower.checker.delete({ namespace: 'team-0', name: NAME });
    await eventually(() => expect(data()).not.toHaveProperty([`team-0.${NAME}`]), 5_000);
    expect(Object.keys(data())).toHaveLength(TEAMS.length - 1);
  });
});
