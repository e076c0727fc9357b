/**
 * The API server's ServiceAccount issuer and its public keys, read from service-account issuer
 * discovery (`/.well-known/openid-configuration`, `/openid/v1/jwks`; every ServiceAccount may
 * read both through the built-in `system:service-account-issuer-discovery` binding).
 *
 * Both are read through @kubernetes/client-node's WellKnownApi / OpenidApi, always from the API
 * server itself: the document's `jwks_uri` names the API server's advertised address (or
 * `--service-account-jwks-uri`), which a pod may not be able to reach. OpenidApi asks for
 * `application/json, *\/*;q=0.8`; the key set is served only as `application/jwk-set+json`
 * (a plain `application/json` request is a 406), so the request asks for that media type exactly.
 *
 * Keys are re-read periodically and on a token with an unknown `kid` (at most once per
 * `minRefreshIntervalMs`, so forged kids cannot turn into API calls). While discovery fails,
 * `current()` is undefined (callers fall back to TokenReview) and it is retried with backoff.
 */
import { type KubeConfig, OpenidApi, WellKnownApi } from '@kubernetes/client-node';
import type { JSONWebKeySet } from 'jose';
import { describeApiError } from '../../kube/api-status.js';
import { Backoff } from '../../kube/backoff.js';
import { requestOptions, withHeader } from '../../kube/request-options.js';

export const JWK_SET_MEDIA_TYPE = 'application/jwk-set+json';
const USER_AGENT = 'registry-config-webhook/resolver-auth';

export interface IssuerKeySet {
  issuer: string;
  keys: JSONWebKeySet;
  keyIds: ReadonlySet<string>;
}

/** Reads discovery + key set once; throws a message without any response body. */
export type IssuerKeySource = () => Promise<{ issuer: string; keys: JSONWebKeySet }>;

export function discoveryKeySource(kubeConfig: KubeConfig, timeoutMs: number): IssuerKeySource {
  const wellKnown = kubeConfig.makeApiClient(WellKnownApi);
  const openid = kubeConfig.makeApiClient(OpenidApi);
  return async () => {
    let issuer: string;
    try {
      const document = parseJson(await wellKnown.getServiceAccountIssuerOpenIDConfiguration({}, requestOptions({ userAgent: USER_AGENT, timeoutMs })));
      issuer = typeof document === 'object' && document !== null && typeof (document as { issuer?: unknown }).issuer === 'string' ? (document as { issuer: string }).issuer : '';
    } catch (err) {
      throw new Error(`service-account issuer discovery failed: ${describeApiError(err)}`);
    }
    if (issuer === '') throw new Error('service-account issuer discovery: the document names no issuer');
    let keySet: unknown;
    try {
      keySet = parseJson(await openid.getServiceAccountIssuerOpenIDKeyset({}, withHeader(requestOptions({ userAgent: USER_AGENT, timeoutMs }), 'Accept', JWK_SET_MEDIA_TYPE)));
    } catch (err) {
      throw new Error(`service-account key set (/openid/v1/jwks) failed: ${describeApiError(err)}`);
    }
    if (!isKeySet(keySet)) throw new Error('service-account key set (/openid/v1/jwks): not a JWK set');
    return { issuer, keys: keySet };
  };
}

export interface IssuerKeysOptions {
  source: IssuerKeySource;
  /** Periodic re-read. Default 10 min (the API server says `max-age=3600`; rotations should not wait that long). */
  refreshIntervalMs?: number;
  /** Least time between two reads caused by unknown kids. Default 10 s. */
  minRefreshIntervalMs?: number;
  /** Retry backoff while discovery fails. Default 1 s doubling to 60 s. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  onError?: (message: string) => void;
  onRefresh?: (keys: IssuerKeySet) => void;
  now?: () => number;
}

export class IssuerKeys {
  private keys: IssuerKeySet | undefined;
  private loading: Promise<boolean> | undefined;
  private lastLoadStartedAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly backoff: Backoff;
  private readonly now: () => number;

  constructor(private readonly options: IssuerKeysOptions) {
    this.now = options.now ?? Date.now;
    this.backoff = new Backoff(options.retryInitialMs ?? 1000, options.retryMaxMs ?? 60_000);
  }

  /** Reads the keys once and keeps them fresh in the background. Never throws. */
  async start(): Promise<void> {
    await this.load();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** The last key set read, undefined while discovery has never succeeded. */
  current(): IssuerKeySet | undefined {
    return this.keys;
  }

  /**
   * A token named a kid we do not know: re-read unless that was done within the minimum
   * interval. Resolves true when a (new) read succeeded.
   */
  refreshForUnknownKey(): Promise<boolean> {
    if (this.loading) return this.loading;
    if (this.now() - this.lastLoadStartedAt < (this.options.minRefreshIntervalMs ?? 10_000)) return Promise.resolve(false);
    return this.load();
  }

  private load(): Promise<boolean> {
    if (this.loading) return this.loading;
    this.lastLoadStartedAt = this.now();
    this.loading = this.options.source().then(
      ({ issuer, keys }) => {
        this.keys = { issuer, keys, keyIds: new Set(keys.keys.map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string')) };
        this.backoff.reset();
        this.options.onRefresh?.(this.keys);
        this.schedule(this.options.refreshIntervalMs ?? 600_000);
        return true;
      },
      (err: unknown) => {
        this.options.onError?.(err instanceof Error ? err.message : String(err));
        // Keep serving the last good keys; retry sooner than the periodic refresh.
        this.schedule(this.backoff.next());
        return false;
      },
    ).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.load(), ms);
    this.timer.unref();
  }
}

/** client-node returns these documents parsed (typed `string`), or as text for a text media type. */
function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

function isKeySet(value: unknown): value is JSONWebKeySet {
  return typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys)
    && (value as { keys: unknown[] }).keys.every((k) => typeof k === 'object' && k !== null);
}

