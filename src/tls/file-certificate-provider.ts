import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckResult } from '../http/readiness.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { CA_CERT_FILE, CERT_FILE, KEY_FILE } from './cert-files.js';
import { type CertificateFacts, inspectCertificate, inspectKeyPair } from './inspect.js';
import { ServedCertificate } from './served-certificate.js';
import type { CertificateProvider, KeyPair } from './types.js';

export const DEFAULT_POLL_INTERVAL_MS = 10_000;
export const DEFAULT_SETTLE_MS = 250;

export interface FileCertificateProviderOptions {
  /** Holds tls.crt, tls.key and optionally ca.crt (a mounted kubernetes.io/tls Secret, say). */
  dir: string;
  /** Re-read interval besides fs events: a Secret volume swaps a `..data` symlink, which watchers can miss. */
  pollIntervalMs?: number;
  /**
   * fs events are debounced this long, and a bad pair must stay unchanged this long before it is
   * reported: writers put tls.crt and tls.key in place one after the other.
   */
  settleMs?: number;
  /** fs.watch the directory besides polling (default true); off for filesystems without events. */
  watch?: boolean;
  log: Logger;
  metrics?: Pick<Metrics, 'certificateExpiry' | 'certificateReloads'>;
  /** Clock for validity checks; tests move it. */
  now?: () => Date;
}

/** What the directory held at one read; `readError` when a file exists but cannot be read. */
interface DiskContent {
  cert: string | undefined;
  key: string | undefined;
  ca: string | undefined;
  readError: string | undefined;
}

/**
 * Serves the key pair in a directory and hot-reloads it. Changed bytes (content hash) are
 * validated before use: a bad pair on disk is refused, the previous one stays served, and the
 * refusal is logged and counted once per distinct content.
 */
export class FileCertificateProvider implements CertificateProvider {
  private readonly dir: string;
  private readonly pollIntervalMs: number;
  private readonly settleMs: number;
  private readonly useWatch: boolean;
  private readonly log: Logger;
  private readonly metrics: FileCertificateProviderOptions['metrics'];
  private readonly now: () => Date;
  private readonly serving: ServedCertificate;

  /** Bad content on disk, already reported. */
  private refused: { hash: string; error: string } | undefined;
  /** Bad content seen once, waiting to be confirmed after settleMs. */
  private unsettled: { hash: string; since: number } | undefined;

  private watcher: FSWatcher | undefined;
  private watchFailureLogged = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private checkAgain = false;
  private stopped = false;

  constructor(options: FileCertificateProviderOptions) {
    this.dir = options.dir;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this.useWatch = options.watch ?? true;
    this.log = options.log;
    this.metrics = options.metrics;
    this.now = options.now ?? (() => new Date());
    this.serving = new ServedCertificate({ log: this.log, logContext: { dir: this.dir }, metrics: this.metrics });
  }

  async start(): Promise<KeyPair> {
    if (this.serving.served) return this.serving.served.pair;
    const content = await readDisk(this.dir);
    const verdict = this.evaluate(content);
    if (!verdict.ok) throw new Error(`no usable serving certificate in ${this.dir}: ${verdict.error}`);
    this.serve(verdict, contentHash(content), true);
    this.watchDir();
    this.pollTimer = setInterval(() => {
      if (!this.watcher && !this.stopped) this.watchDir();
      this.requestCheck();
    }, this.pollIntervalMs);
    this.pollTimer.unref();
    return verdict.pair;
  }

  current(): KeyPair {
    return this.serving.current();
  }

  subscribe(listener: (pair: KeyPair) => void): () => void {
    return this.serving.subscribe(listener);
  }

  readiness(): CheckResult {
    const invalid = this.serving.validity(this.now());
    if (invalid) return invalid;
    const served = this.serving.served;
    if (this.refused && served) {
      return {
        ok: false,
        reason: `the certificate in ${this.dir} was refused (${this.refused.error}); still serving the previous one, which expires at ${served.facts.notAfter.toISOString()}`,
      };
    }
    return { ok: true };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.settleTimer);
    this.pollTimer = undefined;
    this.settleTimer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    await this.checking;
  }

  private watchDir(): void {
    if (!this.useWatch) return;
    try {
      const watcher = watch(this.dir, { persistent: false }, () => this.scheduleCheck(this.settleMs));
      watcher.on('error', () => {
        // The directory went away or was replaced: polling goes on and re-creates the watcher.
        watcher.close();
        if (this.watcher === watcher) this.watcher = undefined;
      });
      this.watcher = watcher;
    } catch (err) {
      if (!this.watchFailureLogged) {
        this.watchFailureLogged = true;
        this.log.warn({ dir: this.dir, err }, `cannot watch ${this.dir}; relying on polling every ${this.pollIntervalMs} ms`);
      }
    }
  }

  private scheduleCheck(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.requestCheck(), delayMs);
    this.settleTimer.unref();
  }

  /** One check at a time; a request during a check runs one more afterwards. */
  private requestCheck(): void {
    if (this.stopped) return;
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    this.checking = (async () => {
      do {
        this.checkAgain = false;
        try {
          await this.check();
        } catch (err) {
          this.log.error({ dir: this.dir, err }, `certificate check of ${this.dir} failed`);
        }
      } while (this.checkAgain && !this.stopped);
    })().finally(() => {
      this.checking = undefined;
    });
  }

  private async check(): Promise<void> {
    const content = await readDisk(this.dir);
    const served = this.serving.served;
    if (this.stopped || !served) return;
    const hash = contentHash(content);
    if (hash === served.hash) {
      // Unchanged, or back to what is served after a refused change.
      this.unsettled = undefined;
      if (this.refused) {
        this.refused = undefined;
        this.log.info({ dir: this.dir }, `the certificate in ${this.dir} is again the one being served`);
      }
      return;
    }
    // Content differing from the served one is re-evaluated every time: a certificate refused as
    // "not yet valid" (clock skew with its issuer) becomes acceptable without changing.
    const verdict = this.evaluate(content);
    if (verdict.ok) {
      this.unsettled = undefined;
      this.refused = undefined;
      this.serve(verdict, hash, false);
      return;
    }
    if (this.refused?.hash === hash) return;
    const nowMs = Date.now();
    if (this.unsettled?.hash !== hash) {
      this.unsettled = { hash, since: nowMs };
      this.scheduleCheck(this.settleMs);
      return;
    }
    const waited = nowMs - this.unsettled.since;
    if (waited < this.settleMs) {
      this.scheduleCheck(this.settleMs - waited);
      return;
    }
    this.unsettled = undefined;
    this.refused = { hash, error: verdict.error };
    this.metrics?.certificateReloads.inc({ result: 'failure' });
    this.log.error(
      { dir: this.dir, reason: verdict.error, servedFingerprint: served.facts.fingerprint, servedNotAfter: served.facts.notAfter.toISOString() },
      `refusing the new certificate in ${this.dir}: ${verdict.error}; still serving the previous one`,
    );
  }

  private evaluate(content: DiskContent): ({ ok: true; pair: KeyPair; facts: CertificateFacts; caNotAfter: Date | undefined; caError: string | undefined }) | { ok: false; error: string } {
    if (content.readError !== undefined) return { ok: false, error: content.readError };
    if (content.cert === undefined) return { ok: false, error: `${CERT_FILE} is missing` };
    if (content.key === undefined) return { ok: false, error: `${KEY_FILE} is missing` };
    const now = this.now();
    const inspection = inspectKeyPair({ cert: content.cert, key: content.key }, now);
    if (!inspection.ok) return inspection;
    const { ok: _ok, ...facts } = inspection;
    const pair: KeyPair = { cert: content.cert, key: content.key };
    // ca.crt is informational (expiry metric, caBundle): a bad one does not stop a good pair.
    let caNotAfter: Date | undefined;
    let caError: string | undefined;
    if (content.ca !== undefined) {
      const ca = inspectCertificate(content.ca, now, 'CA certificate');
      if (ca.ok) {
        pair.ca = content.ca;
        caNotAfter = ca.notAfter;
      } else {
        caError = ca.error;
      }
    }
    return { ok: true, pair, facts, caNotAfter, caError };
  }

  private serve(
    verdict: { pair: KeyPair; facts: CertificateFacts; caNotAfter: Date | undefined; caError: string | undefined },
    hash: string,
    initial: boolean,
  ): void {
    const previous = this.serving.served;
    const { facts } = verdict;
    if (this.metrics) {
      // Only reloads are counted; the first load either works or stops the server.
      if (!initial) this.metrics.certificateReloads.inc({ result: 'success' });
      if (verdict.caNotAfter) this.metrics.certificateExpiry.set({ certificate: 'ca' }, verdict.caNotAfter.getTime() / 1000);
      else this.metrics.certificateExpiry.remove({ certificate: 'ca' });
    }
    if (verdict.caError) this.log.warn({ dir: this.dir, reason: verdict.caError }, `ignoring ${CA_CERT_FILE} in ${this.dir}: ${verdict.caError}`);
    this.log.info(
      {
        dir: this.dir,
        fingerprint: facts.fingerprint,
        notAfter: facts.notAfter.toISOString(),
        dnsNames: facts.dnsNames,
        ipAddresses: facts.ipAddresses,
        ...(previous ? { previousFingerprint: previous.facts.fingerprint } : {}),
      },
      initial ? `serving the certificate in ${this.dir}` : `serving the new certificate in ${this.dir}`,
    );
    // Last, so subscriber failures are logged after the swap is announced.
    this.serving.serve(verdict.pair, hash, facts);
  }
}

async function readDisk(dir: string): Promise<DiskContent> {
  const content: DiskContent = { cert: undefined, key: undefined, ca: undefined, readError: undefined };
  const read = async (file: string): Promise<string | undefined> => {
    try {
      return await readFile(join(dir, file), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      content.readError ??= `cannot read ${file}: ${code ?? (err as Error).message}`;
      return undefined;
    }
  };
  [content.cert, content.key, content.ca] = await Promise.all([read(CERT_FILE), read(KEY_FILE), read(CA_CERT_FILE)]);
  return content;
}

/** Identifies one state of the directory, missing files and read errors included. */
function contentHash(content: DiskContent): string {
  return createHash('sha256').update(JSON.stringify([content.cert ?? null, content.key ?? null, content.ca ?? null, content.readError ?? null])).digest('hex');
}
