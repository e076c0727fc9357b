import type { ConnectionLimits } from './connection-guard.js';

/** Everything that bounds what clients of the HTTPS port can make the server hold, and for how long. */
export interface HttpLimits extends ConnectionLimits {
  /** Bytes of request bodies being received at once (see BodyBudget). */
  bodyBudgetBytes: number;
}

/**
 * kube-apiserver writes a review in one go: a few KB take one round trip in a cluster, and even a
 * 7 MiB UPDATE takes under a second at 100 Mbit/s. It gives up after the webhook's timeoutSeconds
 * (at most 30 s; the chart allows 1-10, default 5). So a request still incomplete after 10 s comes
 * from something else, and headers (and the TLS handshake, and the first request on a new
 * connection) get 5 s. Kept-alive idle connections stay 120 s: the API server's HTTP client
 * closes idle ones after 90 s, and we must never close one first (it would race a request).
 * Connection and body budgets: see the chart README's memory arithmetic.
 */
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 120_000,
  maxConnections: 1_000,
  bodyBudgetBytes: 32 * 1024 * 1024,
};
