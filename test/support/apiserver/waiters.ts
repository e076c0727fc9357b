/** Promises that resolve when a condition on the server state becomes true (re-checked on every change). */

interface Waiter {
  check(): boolean;
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class Waiters {
  private readonly pending = new Set<Waiter>();

  waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.pending.delete(waiter);
          reject(new Error(`fake-apiserver: timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs),
      };
      this.pending.add(waiter);
    });
  }

  /** Call after any change the conditions may depend on. */
  notify(): void {
    for (const waiter of [...this.pending]) {
      if (!waiter.check()) continue;
      clearTimeout(waiter.timer);
      this.pending.delete(waiter);
      waiter.resolve();
    }
  }

  rejectAll(reason: string): void {
    for (const waiter of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(reason));
    }
    this.pending.clear();
  }
}
