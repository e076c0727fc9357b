/** A raw NDJSON watch reader over plain HTTP, independent of the package's client. */
import { request, type IncomingMessage, type ClientRequest } from 'node:http';

export interface WatchReader {
  response: IncomingMessage;
  events: Array<Record<string, unknown>>;
  /** Resolves with the first event (from index `from` on) that matches, or rejects after timeoutMs. */
  waitFor(match: (event: Record<string, unknown>) => boolean, timeoutMs?: number, from?: number): Promise<Record<string, unknown>>;
  ended: Promise<void>;
  close(): void;
}

export function openWatch(url: string, headers: Record<string, string> = {}): Promise<WatchReader> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(url, { headers }, (response) => {
      const events: Array<Record<string, unknown>> = [];
      const waiters = new Set<() => void>();
      let buffered = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffered += chunk;
        let i: number;
        while ((i = buffered.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffered.slice(0, i)) as Record<string, unknown>);
          buffered = buffered.slice(i + 1);
        }
        for (const waiter of [...waiters]) waiter();
      });
      response.on('error', () => {});
      const ended = new Promise<void>((done) => response.once('close', () => done()));
      resolve({
        response,
        events,
        ended,
        close: () => req.destroy(),
        waitFor(match, timeoutMs = 1000, from = 0) {
          return new Promise((found, fail) => {
            const check = () => {
              const event = events.slice(from).find(match);
              if (!event) return;
              clearTimeout(timer);
              waiters.delete(check);
              found(event);
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}
