import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue } from '../../src/propagation/work-queue.js';

/** A process function whose calls are recorded and whose results the test decides. */
function controllable() {
  const calls: string[] = [];
  const pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }[]>();
  const process = (key: string) =>
    new Promise<void>((resolve, reject) => {
      calls.push(key);
      pending.set(key, [...(pending.get(key) ?? []), { resolve, reject }]);
    });
  const settle = async (key: string, error?: Error) => {
    const next = pending.get(key)?.shift();
    if (!next) throw new Error(`no pending call for ${key}`);
    if (error) next.reject(error);
    else next.resolve();
    await vi.advanceTimersByTimeAsync(0);
  };
  const inFlight = () => [...pending.entries()].filter(([, list]) => list.length > 0).map(([k]) => k).sort();
  return { calls, process, settle, inFlight };
}

describe('WorkQueue', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('processes each queued key once even when added repeatedly', async () => {
    const c = controllable();
    const q = new WorkQueue<string>({ process: c.process, concurrency: 1, backoff: { initialMs: 100, maxMs: 1000 } });
    q.add('a');
    q.add('b');
    q.add('b');
    q.add('a'); // a is processing: it runs again afterwards
    expect(c.calls).toEqual(['a']);
    await c.settle('a');
    expect(c.calls).toEqual(['a', 'b']);
    await c.settle('b');
    expect(c.calls).toEqual(['a', 'b', 'a']);
    await c.settle('a');
    await q.idle();
    expect(c.calls).toEqual(['a', 'b', 'a']);
  });

  it('never processes the same key concurrently, and bounds concurrency', async () => {
    const c = controllable();
    const q = new WorkQueue<string>({ process: c.process, concurrency: 2, backoff: { initialMs: 100, maxMs: 1000 } });
    for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    q.add('a');
    expect(c.inFlight()).toEqual(['a', 'b']);
    await c.settle('a');
    expect(c.inFlight()).toEqual(['b', 'c']); // a re-runs only after c and d, in FIFO order
    await c.settle('b');
    await c.settle('c');
    expect(c.inFlight()).toEqual(['a', 'd']);
  });

  it('retries a failed key with per-key exponential backoff, capped, and forgets on success', async () => {
    const c = controllable();
    const failures: number[] = [];
    const depths: number[] = [];
    const q = new WorkQueue<string>({
      process: c.process,
      concurrency: 1,
      backoff: { initialMs: 100, maxMs: 350 },
      onFailure: (_k, _e, retryInMs) => failures.push(retryInMs),
      onDepth: (d) => depths.push(d),
    });
    q.add('a');
    await c.settle('a', new Error('boom'));
    expect(q.depth()).toBe(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(c.calls).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.calls).toEqual(['a', 'a']);
    await c.settle('a', new Error('boom'));
    await vi.advanceTimersByTimeAsync(200);
    await c.settle('a', new Error('boom'));
    await vi.advanceTimersByTimeAsync(350);
    await c.settle('a', new Error('boom'));
    expect(failures).toEqual([100, 200, 350, 350]);
    expect(q.failuresOf('a')).toBe(4);
    await vi.advanceTimersByTimeAsync(350);
    await c.settle('a');
    expect(q.failuresOf('a')).toBe(0);
    expect(q.depth()).toBe(0);
    expect(depths.at(-1)).toBe(0);
  });

  it('a success triggered meanwhile cancels the pending retry', async () => {
    const c = controllable();
    const q = new WorkQueue<string>({ process: c.process, concurrency: 1, backoff: { initialMs: 1000, maxMs: 1000 } });
    q.add('a');
    await c.settle('a', new Error('boom'));
    q.add('a'); // an event arrives before the retry: processed at once
    await c.settle('a');
    await vi.advanceTimersByTimeAsync(5000);
    expect(c.calls).toEqual(['a', 'a']);
  });

  it('keys of other namespaces are not delayed by one key backing off', async () => {
    const c = controllable();
    const q = new WorkQueue<string>({ process: c.process, concurrency: 1, backoff: { initialMs: 10_000, maxMs: 10_000 } });
    q.add('bad');
    await c.settle('bad', new Error('boom'));
    q.add('good');
    expect(c.calls).toEqual(['bad', 'good']);
  });

  it('stop() drops queued work and retries, waits for the running key, and ignores later adds', async () => {
    const c = controllable();
    const q = new WorkQueue<string>({ process: c.process, concurrency: 1, backoff: { initialMs: 100, maxMs: 100 } });
    q.add('a');
    q.add('b');
    let stopped = false;
    const stopping = q.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    await c.settle('a', new Error('late failure'));
    await stopping;
    q.add('c');
    await vi.advanceTimersByTimeAsync(1000);
    expect(c.calls).toEqual(['a']);
    expect(q.depth()).toBe(0);
  });
});
