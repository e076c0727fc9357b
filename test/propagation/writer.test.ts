import type { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrency } from '../../src/kube/adaptive-concurrency.js';
import { ThrottledError } from '../../src/kube/throttling.js';
import { TokenBucket } from '../../src/kube/token-bucket.js';
import { GuardError, WriteBudget, WriteBudgetExceededError } from '../../src/propagation/guards.js';
import { ObjectCache } from '../../src/propagation/object-cache.js';
import type { SecretObject } from '../../src/propagation/types.js';
import { CopyWriter, NotLeadingError } from '../../src/propagation/writer.js';
import { baseSecret, NAME, secretIn, SYSTEM_NS } from './support.js';

/** What client-node 1.4.0 throws for an APF rejection: ApiException code, text body, lower-case headers. */
function apf429(retryAfter: string): Error {
  return Object.assign(new Error('HTTP-Code: 429'), {
    code: 429,
    body: 'Too many requests, please try again later.\n',
    headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': retryAfter },
  });
}

function setup(options: { active?: () => boolean; ceiling?: TokenBucket; perKey?: number; reject?: () => Error | undefined } = {}) {
  const calls: string[] = [];
  const core = {
    createNamespacedSecret: async (p: { namespace: string; body: SecretObject }) => {
      calls.push(`create ${p.namespace}`);
      const rejection = options.reject?.();
      if (rejection) throw rejection;
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
  const inFlight = new AdaptiveConcurrency({ max: 8 });
  const writer = new CopyWriter(
    {
      core,
      systemNamespace: SYSTEM_NS,
      secrets,
      budget: new WriteBudget({ windowMs: 60_000, perKey: options.perKey ?? 10, total: () => 100 }),
      inFlight,
      ceiling: options.ceiling,
      metrics: undefined,
      userAgent: 'test',
      requestTimeoutMs: 1000,
    },
    { signal: abort.signal, active: options.active ?? (() => true) },
  );
  return { writer, calls, secrets, abort, inFlight };
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

  it('checks leadership again after waiting for the writes-per-second ceiling', async () => {
    let active = true;
    const ceiling = new TokenBucket(20, 1);
    ceiling.reserve(); // the next token is 50 ms away
    const { writer, calls } = setup({ active: () => active, ceiling });
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

  it('turns an APF 429 into a ThrottledError with its Retry-After, halves the writes in flight and gives the budget back', async () => {
    let rejections = 3;
    const { writer, calls, inFlight } = setup({ perKey: 1, reject: () => (rejections-- > 0 ? apf429('2') : undefined) });
    const first = await writer.create(copy('team-a')).catch((err: unknown) => err);
    expect(first).toBeInstanceOf(ThrottledError);
    expect((first as ThrottledError).retryAfterMs).toBe(2000);
    expect(inFlight.limit).toBe(4);
    // A budget of one write per namespace: each rejected write gave its write back.
    await expect(writer.create(copy('team-a'))).rejects.toBeInstanceOf(ThrottledError);
    await expect(writer.create(copy('team-a'))).rejects.toBeInstanceOf(ThrottledError);
    await writer.create(copy('team-a'));
    expect(calls).toEqual(['create team-a', 'create team-a', 'create team-a', 'create team-a']);
    expect(inFlight.limit).toBe(1); // 8 -> 4 -> 2 -> 1 (it grows back at most a slot a second)
  });

  it('waits 1 s after a 429 without a usable Retry-After', async () => {
    const { writer } = setup({ reject: () => apf429('soon') });
    await expect(writer.create(copy('team-a'))).rejects.toMatchObject({ retryAfterMs: 1000 });
  });
});
