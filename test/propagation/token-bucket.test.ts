import { afterEach, describe, expect, it, vi } from 'vitest';
import { delay, TokenBucket } from '../../src/kube/token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then books tokens at the rate', () => {
    let now = 0;
    const bucket = new TokenBucket(20, 50, () => now);
    for (let i = 0; i < 50; i++) expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(50); // 1/20 s
    expect(bucket.reserve()).toBe(100);
    now = 100; // two tokens refilled, both already booked
    expect(bucket.reserve()).toBe(50);
  });

  it('refills up to the burst only', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    now = 10_000;
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
  });

  it('1,000 writes at 20/s with burst 50 take 47.5 s', () => {
    let now = 0;
    const bucket = new TokenBucket(20, 50, () => now);
    let last = 0;
    for (let i = 0; i < 1000; i++) last = bucket.reserve();
    expect(last).toBe(47_500);
  });

  it('rejects nonsense settings', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0)).toThrow(RangeError);
  });
});

describe('delay', () => {
  afterEach(() => void vi.useRealTimers());

  it('resolves after the time and rejects when aborted', async () => {
    vi.useFakeTimers();
    let done = false;
    const p = delay(100).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(99);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    const abort = new AbortController();
    const q = delay(1000, abort.signal);
    abort.abort(new Error('stop'));
    await expect(q).rejects.toThrow('stop');
    await expect(delay(10, abort.signal)).rejects.toThrow('stop');
  });
});
