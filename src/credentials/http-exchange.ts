/**
 * One HTTP(S) request of a credential check, made the careful way: to an address resolved before
 * (never a second DNS look-up), SNI and Host set to the name, no agent or connection reuse, at most
 * `maxBodyBytes` of the answer read, one deadline for the whole exchange, our own User-Agent.
 * Redirects are not followed here: the login flow decides.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';

export const USER_AGENT = 'registry-config-webhook-credential-check/1';
/** At most this much of any answer is read. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface ExchangeRequest {
  url: URL;
  /** The resolved IP address to connect to. */
  address: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM). Absent: Node's CA list plus NODE_EXTRA_CA_CERTS. */
  ca?: string | readonly string[];
  maxBodyBytes?: number;
}

export interface ExchangeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The answer was longer than maxBodyBytes; the connection was cut. */
  truncated: boolean;
}

export class CheckTimeoutError extends Error {
  override readonly name = 'CheckTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

export function exchange(req: ExchangeRequest): Promise<ExchangeResponse> {
  const { url } = req;
  const limit = req.maxBodyBytes ?? MAX_BODY_BYTES;
  const https = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const options = {
      host: req.address,
      port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      agent: false as const,
      headers: { host: url.host, 'user-agent': USER_AGENT, accept: 'application/json', ...req.headers },
      ...(https ? { servername: isIP(hostname) === 0 ? hostname : '', ...(req.ca !== undefined ? { ca: req.ca as string | string[] } : {}) } : {}),
    };
    const client = https ? httpsRequest(options) : httpRequest(options);
    const timer = setTimeout(() => {
      const error = new CheckTimeoutError(req.timeoutMs);
      finish(() => reject(error));
      client.destroy(error);
    }, req.timeoutMs);
    client.on('error', (error) => finish(() => reject(error)));
    client.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const done = (): void => finish(() => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), truncated }));
      response.on('data', (chunk: Buffer) => {
        if (truncated) return;
        const room = limit - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          size = limit;
          truncated = true;
          done();
          response.destroy();
          client.destroy();
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      response.on('end', done);
      response.on('error', (error) => finish(() => reject(error)));
      response.on('aborted', () => finish(() => reject(Object.assign(new Error('answer cut off'), { code: 'ECONNRESET' }))));
    });
    client.end();
  });
}
