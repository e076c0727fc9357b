import type { CheckResult } from '../http/readiness.js';

/** A serving key pair in PEM, plus the CA that signed it when known. */
export interface KeyPair {
  cert: string;
  key: string;
  ca?: string;
}

/**
 * Where the HTTPS server gets its certificate. Files mode (CERT_DIR, hot reload) and self-managed
 * mode (a Secret kept by this server) both implement it; the HTTPS server only calls
 * `setSecureContext` with what `subscribe` delivers, so open connections keep working.
 */
export interface CertificateProvider {
  /** Loads the first valid pair; rejects with a clear error when none can be had. */
  start(): Promise<KeyPair>;
  /** The pair currently served. Throws before start() resolved. */
  current(): KeyPair;
  /** Called with each new, validated pair. Returns an unsubscribe function. */
  subscribe(listener: (pair: KeyPair) => void): () => void;
  /** Not ready while the served certificate is expired or differs from its source. */
  readiness(): CheckResult;
  stop(): Promise<void>;
}
