import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrency, type Permit } from '../../src/kube/adaptive-concurrency.js';

async function take(limiter: AdaptiveConcurrency, n: number): Promise<Permit[]> {
  const permits: Permit[] = [];
  for (let i = 0; i < n; i++) permits.push(await limiter.acquire());
  return permits;
}

describe('AdaptiveConcurrency', () => {
  it('admits up to the limit and the next waiter when one finishes', async () => {
    const limiter = new AdaptiveConcurrency({ max: 2 });
    const [a] = await take(limiter, 2);
    let third = false;
    const pending = limiter.acquire().then((p) => {
      third = true;
      return p;
    });
    await Promise.resolve();
    expect(third).toBe(false);
    a?.done('other');
    (await pending).done('ok');
    expect(third).toBe(true);
  });

  it('halves once for a burst of 429s to requests sent before the decrease', async () => {
    const limits: number[] = [];
    const limiter = new AdaptiveConcurrency({ max: 16, onLimit: (l) => limits.push(l) });
    const burst = await take(limiter, 16);
    for (const p of burst) p.done('throttled');
    expect(limiter.limit).toBe(8);
    // A request admitted after the decrease and throttled again halves again.
    (await limiter.acquire()).done('throttled');
    expect(limiter.limit).toBe(4);
    expect(limits).toEqual([16, 8, 4]);
  });

  it('never goes below min, and grows back one slot per window of successes and at most once a second', async () => {
    let now = 0;
    const limiter = new AdaptiveConcurrency({ max: 8, now: () => now });
    for (let i = 0; i < 6; i++) (await limiter.acquire()).done('throttled');
    expect(limiter.limit).toBe(1);
    for (let i = 0; i < 10; i++) (await limiter.acquire()).done('ok');
    expect(limiter.limit).toBe(1); // successes, but not a second since the decrease
    now = 1000;
    (await limiter.acquire()).done('ok');
    expect(limiter.limit).toBe(2);
    now = 2000;
    (await limiter.acquire()).done('ok');
    expect(limiter.limit).toBe(2); // a window is 2 successes now
    (await limiter.acquire()).done('ok');
    expect(limiter.limit).toBe(3);
    for (let second = 3; second < 20; second++) {
      now = second * 1000;
      for (let i = 0; i < 8; i++) (await limiter.acquire()).done('ok');
    }
    expect(limiter.limit).toBe(8);
  });

  it('grows back quickly to one below the limit that was turned away, then probes a slot a second', async () => {
    let now = 0;
    const limiter = new AdaptiveConcurrency({ max: 32, now: () => now });
    for (let i = 0; i < 4; i++) (await limiter.acquire()).done('throttled'); // 32 -> 16 -> 8 -> 4 -> 2
    for (let i = 0; i < 4; i++) (await limiter.acquire()).done('ok');
    expect(limiter.limit).toBe(3); // 3 = one below the 4 turned away last
    for (let i = 0; i < 100; i++) (await limiter.acquire()).done('ok');
    expect(limiter.limit).toBe(3);
    now = 1000;
    for (let i = 0; i < 3; i++) (await limiter.acquire()).done('ok');
    expect(limiter.limit).toBe(4);
    (await limiter.acquire()).done('throttled'); // at 4 again: halved to 2, quick way back up to 3 only
    for (let i = 0; i < 100; i++) (await limiter.acquire()).done('ok');
    expect(limiter.limit).toBe(3);
  });

  it('does not grow on failures that say nothing about load (timeouts, 5xx)', async () => {
    let now = 0;
    const limiter = new AdaptiveConcurrency({ max: 4, now: () => now });
    (await limiter.acquire()).done('throttled');
    now = 5000;
    for (let i = 0; i < 10; i++) (await limiter.acquire()).done('other');
    expect(limiter.limit).toBe(2);
  });

  it('rejects a waiter whose signal aborts, and gives its turn to the next', async () => {
    const limiter = new AdaptiveConcurrency({ max: 1 });
    const [held] = await take(limiter, 1);
    const abort = new AbortController();
    const aborted = limiter.acquire(abort.signal);
    const next = limiter.acquire();
    abort.abort(new Error('stopped'));
    await expect(aborted).rejects.toThrow('stopped');
    held?.done('ok');
    await expect(next).resolves.toBeDefined();
    expect(limiter.inFlight).toBe(1);
  });
});
