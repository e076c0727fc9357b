/**
 * A client for controller authors: which registry config applies to a namespace, and a watch that
 * calls back whenever it changes. Node's http/https only, no dependencies.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { NDJSON_CONTENT_TYPE, NO_REGISTRY_CONFIG, registryConfigPath, type RegistryConfig, type RegistryConfigEvent, type RegistryConfigNotFound } from './api.js';

export type { RegistryConfig, RegistryConfigEvent, RegistryConfigNotFound, RegistrySource } from './api.js';

export interface RegistryConfigClientOptions {
  /** Base URL of the server, e.g. `https://registry-config-webhook.kyma-system.svc:443`. */
  url: string;
  /**
   * Bearer token, or a function returning it on every request (projected service account tokens
   * rotate: read the file each time).
   */
  token?: string | (() => string | Promise<string>);
  /** PEM CA bundle that signed the server's certificate. */
  ca?: string | Buffer;
  /** Per GET, and for a watch: no byte (heartbeats included) for this long means a dead connection. Default 10 s / 90 s. */
  requestTimeoutMs?: number;
  watchIdleTimeoutMs?: number;
  /** Reconnect backoff of watches: doubles from min to max (jittered). Default 500 ms .. 30 s. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

export interface WatchOptions {
  signal?: AbortSignal;
  /** A connection failed or was refused; the watch retries with backoff. */
  onError?: (error: Error) => void;
}

export interface RegistryConfigWatch {
  close(): void;
}

export interface RegistryConfigClient {
  /** The config that applies to `namespace`, or null when none does. Throws RegistryConfigError otherwise. */
  get(namespace: string, options?: { signal?: AbortSignal }): Promise<RegistryConfig | null>;
  /**
   * Calls `onChange` with the current answer, then on every change (null: nothing applies), until
   * closed. Reconnects by itself; an answer equal to the last one delivered is not repeated.
   */
  watch(
    namespace: string,
    onChange: (config: RegistryConfig | null, event: Exclude<RegistryConfigEvent, { type: 'HEARTBEAT' }>) => void,
    options?: WatchOptions,
  ): RegistryConfigWatch;
  /** Releases kept-alive connections. Open watches are closed too. */
  close(): void;
}

/** A failed request: status (when the server answered), the server's error code and message. */
export class RegistryConfigError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'RegistryConfigError';
  }
}

export function createRegistryConfigClient(options: RegistryConfigClientOptions): RegistryConfigClient {
  const base = new URL(options.url);
  const secure = base.protocol === 'https:';
  if (!secure && base.protocol !== 'http:') throw new Error(`unsupported URL scheme ${base.protocol} (http: or https:)`);
  const agent = secure ? new HttpsAgent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) }) : new HttpAgent({ keepAlive: true });
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const watchIdleTimeoutMs = options.watchIdleTimeoutMs ?? 90_000;
  const backoffMinMs = options.backoffMinMs ?? 500;
  const backoffMaxMs = options.backoffMaxMs ?? 30_000;
  const watches = new Set<RegistryConfigWatch>();

  const open = async (path: string, accept: string, signal: AbortSignal | undefined): Promise<{ req: ClientRequest; res: IncomingMessage }> => {
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    const url = new URL(path.replace(/^\//, ''), base.href.endsWith('/') ? base.href : `${base.href}/`);
    return new Promise((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(url, {
        method: 'GET',
        agent,
        headers: { accept, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(signal ? { signal } : {}),
      });
      let answered = false;
      req.once('response', (res) => {
        answered = true;
        // Errors after the answer (abort, reset) surface on the response or as its 'close'.
        res.on('error', () => {});
        resolve({ req, res });
      });
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      req.end();
    });
  };

  const client: RegistryConfigClient = {
    async get(namespace, getOptions = {}) {
      const signal = getOptions.signal ? AbortSignal.any([getOptions.signal, AbortSignal.timeout(requestTimeoutMs)]) : AbortSignal.timeout(requestTimeoutMs);
      const { res } = await open(registryConfigPath(namespace), 'application/json', signal);
      const text = await readBody(res);
      const body = parseJson(text);
      if (res.statusCode === 200 && isRegistryConfig(body)) return body;
      if (res.statusCode === 404 && isRecord(body) && body.code === NO_REGISTRY_CONFIG) return null;
      throw errorFromResponse(res.statusCode, body);
    },

    watch(namespace, onChange, watchOptions = {}) {
      const controller = new AbortController();
      const { signal } = controller;
      const stop = () => controller.abort();
      watchOptions.signal?.addEventListener('abort', stop, { once: true });
      if (watchOptions.signal?.aborted) stop();
      let lastDelivered: string | undefined;
      let retryTimer: NodeJS.Timeout | undefined;
      let failures = 0;

      const handle: RegistryConfigWatch = {
        close() {
          stop();
        },
      };
      signal.addEventListener(
        'abort',
        () => {
          if (retryTimer) clearTimeout(retryTimer);
          watchOptions.signal?.removeEventListener('abort', stop);
          watches.delete(handle);
        },
        { once: true },
      );
      watches.add(handle);

      const deliver = (event: RegistryConfigEvent): void => {
        if (event.type === 'HEARTBEAT' || signal.aborted) return;
        // Reconnects start with the current state again: tell the caller only what is new.
        const key = JSON.stringify(event.config ?? { reason: (event as RegistryConfigNotFound).reason });
        if (key === lastDelivered) return;
        lastDelivered = key;
        onChange(event.config, event);
      };

      const reportError = (error: Error): void => {
        if (!signal.aborted) watchOptions.onError?.(error);
      };

      const scheduleReconnect = (): void => {
        if (signal.aborted) return;
        const ceiling = Math.min(backoffMaxMs, backoffMinMs * 2 ** Math.min(failures, 16));
        failures++;
        const delay = ceiling / 2 + Math.random() * (ceiling / 2);
        retryTimer = setTimeout(connect, delay);
      };

      const connect = (): void => {
        if (signal.aborted) return;
        void open(`${registryConfigPath(namespace)}?watch=true`, NDJSON_CONTENT_TYPE, signal).then(
          ({ req, res }) => {
            if (res.statusCode !== 200) {
              void readBody(res).then(
                (text) => reportError(errorFromResponse(res.statusCode, parseJson(text))),
                (err: Error) => reportError(err),
              );
              res.once('close', scheduleReconnect);
              return;
            }
            req.setTimeout(watchIdleTimeoutMs, () => {
              reportError(new RegistryConfigError(`watch of ${namespace}: no data for ${watchIdleTimeoutMs} ms; reconnecting`, undefined, 'IDLE'));
              req.destroy();
            });
            res.setEncoding('utf8');
            let buffered = '';
            res.on('data', (chunk: string) => {
              buffered += chunk;
              let newline: number;
              while ((newline = buffered.indexOf('\n')) >= 0) {
                const line = buffered.slice(0, newline).trim();
                buffered = buffered.slice(newline + 1);
                if (line === '') continue;
                const event = parseJson(line);
                if (!isEvent(event)) {
                  reportError(new RegistryConfigError(`watch of ${namespace}: unexpected line from server`, 200, 'BAD_EVENT'));
                  continue;
                }
                if (event.type !== 'HEARTBEAT') failures = 0;
                deliver(event);
              }
            });
            res.once('error', (err: Error) => reportError(err));
            res.once('close', scheduleReconnect);
          },
          (err: Error) => {
            reportError(err);
            scheduleReconnect();
          },
        );
      };

      connect();
      return handle;
    },

    close() {
      for (const watch of [...watches]) watch.close();
      agent.destroy();
    },
  };
  return client;
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRegistryConfig(value: unknown): value is RegistryConfig {
  return isRecord(value) && typeof value.revision === 'string' && typeof value.registryAddress === 'string';
}

function isEvent(value: unknown): value is RegistryConfigEvent {
  if (!isRecord(value)) return false;
  if (value.type === 'HEARTBEAT') return true;
  if (value.type === 'DELETED') return value.config === null && typeof value.reason === 'string';
  return (value.type === 'ADDED' || value.type === 'MODIFIED') && isRegistryConfig(value.config);
}

function errorFromResponse(status: number | undefined, body: unknown): RegistryConfigError {
  const code = isRecord(body) && typeof body.code === 'string' ? body.code : undefined;
  const message = isRecord(body) && typeof body.message === 'string' ? body.message : 'unexpected response';
  return new RegistryConfigError(`registry config request failed: HTTP ${status ?? '?'}: ${message}`, status, code);
}
