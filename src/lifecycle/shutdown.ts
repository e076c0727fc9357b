import type { Logger } from '../logger.js';
import type { Readiness } from '../http/readiness.js';

/** Something that stops: a server, a watch, a lease. Errors are logged, never block the exit. */
export interface Stoppable {
  name: string;
  stop(): Promise<void>;
  /** Called when the drain bound ran out: drop whatever is still open. */
  force?(): void;
}

export interface ShutdownOptions {
  log: Logger;
  readiness: Readiness;
  /** Keep serving (not ready) this long so the endpoints controller removes the pod first. */
  delayMs: number;
  /** Bound on draining in-flight requests once we stop accepting. */
  timeoutMs: number;
  /** Called at once: e.g. ask keep-alive clients to reconnect elsewhere. */
  onDrainStart?: () => void;
  /** Stopped at once, while still serving: controllers that should hand over (release the leader lease) now. */
  early?: Stoppable[];
  /** Servers, closed after the delay, in parallel, within timeoutMs. */
  servers: Stoppable[];
  /** Watches, leases, timers: stopped after the servers (the leader lease is released here). */
  background: Stoppable[];
}

/**
 * The shutdown sequence for SIGTERM/SIGINT:
 * not ready at once (and hand over leadership) -> keep serving for `delayMs` -> stop accepting and
 * drain (bounded) -> stop watches -> resolve (the caller exits 0).
 */
export async function shutdown(options: ShutdownOptions, reason: string): Promise<void> {
  const { log } = options;
  const started = Date.now();
  options.readiness.add('shutdown', () => ({ ok: false, reason: `shutting down (${reason})` }));
  options.onDrainStart?.();
  log.info({ reason, delayMs: options.delayMs }, 'shutting down: not ready, still serving until endpoints are updated');
  await Promise.all([sleep(options.delayMs), ...(options.early ?? []).map((s) => stopQuietly(s, log))]);

  log.info({ timeoutMs: options.timeoutMs }, 'shutting down: no new connections, draining in-flight requests');
  const drained = await withTimeout(Promise.all(options.servers.map((s) => stopQuietly(s, log))), options.timeoutMs);
  if (!drained) {
    log.warn({ timeoutMs: options.timeoutMs }, 'drain timed out; closing remaining connections');
    for (const server of options.servers) server.force?.();
  }

  await Promise.all(options.background.map((s) => stopQuietly(s, log)));
  log.info({ tookMs: Date.now() - started }, 'shutdown complete');
}

async function stopQuietly(stoppable: Stoppable, log: Logger): Promise<void> {
  try {
    await stoppable.stop();
  } catch (err) {
    log.warn({ component: stoppable.name, error: (err as Error).message }, 'error while stopping');
  }
}

async function withTimeout(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
