import type { CheckResult } from '../http/readiness.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CertificateFacts } from './inspect.js';
import type { KeyPair } from './types.js';

/** The pair being served, its inspection facts, and the hash of the source content it came from. */
export interface Served {
  pair: KeyPair;
  hash: string;
  facts: CertificateFacts;
}

export interface ServedCertificateOptions {
  log: Logger;
  /** Fields identifying the source (`{ dir }`, `{ secret }`) in the logs written here. */
  logContext: Record<string, unknown>;
  metrics?: Pick<Metrics, 'certificateExpiry'> | undefined;
}

/**
 * The part of a CertificateProvider that holds the served pair and hands replacements to
 * subscribers; the providers only decide what to serve.
 */
export class ServedCertificate {
  private readonly listeners = new Set<(pair: KeyPair) => void>();
  private value: Served | undefined;

  constructor(private readonly options: ServedCertificateOptions) {}

  /** Undefined until the first serve(). */
  get served(): Served | undefined {
    return this.value;
  }

  current(): KeyPair {
    if (!this.value) throw new Error('certificate provider not started');
    return this.value.pair;
  }

  subscribe(listener: (pair: KeyPair) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Swaps in a validated pair and sets its expiry gauge. Subscribers get replacements only: the
   * first pair is what start() returns.
   */
  serve(pair: KeyPair, hash: string, facts: CertificateFacts): void {
    const previous = this.value;
    this.value = { pair, hash, facts };
    this.options.metrics?.certificateExpiry.set({ certificate: 'serving' }, facts.notAfter.getTime() / 1000);
    if (!previous) return;
    for (const listener of this.listeners) {
      // One failing subscriber must not keep the pair from the others.
      try {
        listener(pair);
      } catch (err) {
        this.options.log.error({ ...this.options.logContext, err }, 'a certificate subscriber failed to take the new certificate');
      }
    }
  }

  /** The readiness failure shared by all providers, or undefined when the served pair is valid at `now`. */
  validity(now: Date): CheckResult | undefined {
    if (!this.value) return { ok: false, reason: 'no serving certificate loaded yet' };
    const { facts } = this.value;
    if (now > facts.notAfter) return { ok: false, reason: `the served certificate expired at ${facts.notAfter.toISOString()}` };
    if (now < facts.notBefore) return { ok: false, reason: `the served certificate is not valid before ${facts.notBefore.toISOString()}` };
    return undefined;
  }
}
