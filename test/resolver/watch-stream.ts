/** A raw NDJSON watch reader over HTTP or HTTPS, independent of the package's client. */
import { request, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface WatchReader {
  response: IncomingMessage;
  events: Array<Record<string, unknown>>;
  lines: string[];
  /** Resolves with the first event (from index `from` on) that matches, or rejects after timeoutMs. */
  waitFor(match: (event: Record<string, unknown>) => boolean, timeoutMs?: number, from?: number): Promise<Record<string, unknown>>;
  ended: Promise<void>;
  close(): void;
}

/** `ca`: for an https URL, the only CA trusted. */
export function openWatch(url: string, headers: Record<string, string> = {}, options: { ca?: string } = {}): Promise<WatchReader> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith('https:');
    const req: ClientRequest = (secure ? httpsRequest : request)(url, { headers, ...(secure && options.ca ? { ca: options.ca } : {}) }, (response) => {
      const events: Array<Record<string, unknown>> = [];
      /** Each line as the server sent it. */
      const lines: string[] = [];
      const waiters = new Set<() => void>();
      let buffered = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffered += chunk;
        let i: number;
        while ((i = buffered.indexOf('\n')) >= 0) {
          lines.push(buffered.slice(0, i));
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
        lines,
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
