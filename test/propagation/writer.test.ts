import type { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/kube/token-bucket.js';
import { GuardError, WriteBudget, WriteBudgetExceededError } from '../../src/propagation/guards.js';
import { ObjectCache } from '../../src/propagation/object-cache.js';
import type { SecretObject } from '../../src/propagation/types.js';
import { CopyWriter, NotLeadingError } from '../../src/propagation/writer.js';
import { baseSecret, NAME, secretIn, SYSTEM_NS } from './support.js';

function setup(options: { active?: () => boolean; limiter?: TokenBucket; perKey?: number } = {}) {
  const calls: string[] = [];
  const core = {
    createNamespacedSecret: async (p: { namespace: string; body: SecretObject }) => {
      calls.push(`create ${p.namespace}`);
      return { ...p.body, metadata: { ...p.body.metadata, uid: 'u', resourceVersion: '5' } };
    },
    replaceNamespacedSecret: async (p: { namespace: string; body: SecretObject }) => {
      calls.push(`update ${p.namespace}`);
      return p.body;
    },
    deleteNamespacedSecret: async (p: { namespace: string }) => {
      calls.push(`delete ${p.namespace}`);
      return {};
    },
    patchNamespacedSecret: async (p: { namespace: string }) => {
      calls.push(`patch ${p.namespace}`);
      return baseSecret();
    },
  } as unknown as CoreV1Api;
  const secrets = new ObjectCache<SecretObject>((s) => s.metadata?.namespace);
  const abort = new AbortController();
  const writer = new CopyWriter(
    {
      core,
      systemNamespace: SYSTEM_NS,
      secrets,
      budget: new WriteBudget({ windowMs: 60_000, perKey: options.perKey ?? 10, total: () => 100 }),
      limiter: options.limiter ?? new TokenBucket(1000, 1000),
      metrics: undefined,
      userAgent: 'test',
      requestTimeoutMs: 1000,
    },
    { signal: abort.signal, active: options.active ?? (() => true) },
  );
  return { writer, calls, secrets, abort };
}

const copy = (ns: string): SecretObject => ({ ...secretIn(ns), metadata: { name: NAME, namespace: ns } });

describe('CopyWriter', () => {
  it('writes and applies the result to the cache', async () => {
    const { writer, calls, secrets } = setup();
    await writer.create(copy('team-a'));
    expect(calls).toEqual(['create team-a']);
    expect(secrets.get('team-a')?.metadata?.uid).toBe('u');
  });

  it('sends nothing once leadership is gone', async () => {
    const { writer, calls } = setup({ active: () => false });
    await expect(writer.create(copy('team-a'))).rejects.toBeInstanceOf(NotLeadingError);
    await expect(writer.setBaseFinalizers(baseSecret(), [])).rejects.toBeInstanceOf(NotLeadingError);
    expect(calls).toEqual([]);
  });

  it('checks leadership again after waiting for the rate limiter', async () => {
    let active = true;
    const limiter = new TokenBucket(20, 1);
    limiter.reserve(); // the next token is 50 ms away
    const { writer, calls } = setup({ active: () => active, limiter });
    const pending = writer.create(copy('team-a'));
    active = false;
    await expect(pending).rejects.toBeInstanceOf(NotLeadingError);
    expect(calls).toEqual([]);
  });

  it('refuses the system namespace, other names, and patching anything but the base', async () => {
    const { writer, calls } = setup();
    await expect(writer.create(copy(SYSTEM_NS))).rejects.toBeInstanceOf(GuardError);
    await expect(writer.update({ ...copy('team-a'), metadata: { name: 'other', namespace: 'team-a' } })).rejects.toBeInstanceOf(GuardError);
    await expect(writer.delete(copy(SYSTEM_NS))).rejects.toBeInstanceOf(GuardError);
    await expect(writer.setBaseFinalizers(copy('team-a'), [])).rejects.toBeInstanceOf(GuardError);
    expect(calls).toEqual([]);
  });

  it('stops at the write budget', async () => {
    const { writer, calls } = setup({ perKey: 2 });
    await writer.update(copy('team-a'));
    await writer.update(copy('team-a'));
    await expect(writer.update(copy('team-a'))).rejects.toBeInstanceOf(WriteBudgetExceededError);
    expect(calls).toEqual(['update team-a', 'update team-a']);
  });
});
