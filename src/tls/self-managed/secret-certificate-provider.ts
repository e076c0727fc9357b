/**
 * Serves the key pair held in the self-managed certificate Secret and keeps that Secret right:
 * created when missing, the serving certificate renewed, the CA rotated with overlap
 * (rotation-plan.ts), and the caBundle published through a BundlePublisher after every change.
 *
 * Several replicas run this at once. Writes are optimistic (create / update with resourceVersion);
 * the loser of a race re-reads, re-plans (now a no-op) and serves what won. Each replica also
 * watches the Secret, so another replica's renewal or rotation is served within seconds, straight
 * from the Secret's data (no volume, no restart).
 */
import { createHash } from 'node:crypto';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { CheckResult } from '../../http/readiness.js';
import { Backoff } from '../../kube/backoff.js';
import type { SecretObject } from '../../kube/objects.js';
import type { Reflector } from '../../kube/reflector.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics/metrics.js';
import { inspectCertificate, inspectKeyPair } from '../inspect.js';
import { ServedCertificate } from '../served-certificate.js';
import type { CertificateProvider, KeyPair } from '../types.js';
import { applyRotationPlan } from './apply-rotation.js';
import { caBundleOf } from './ca-bundle.js';
import { CertificateSecretClient, SecretApiError, isTransient } from './certificate-secret-client.js';
import { type RotationPlan, type RotationSettings, hasChanges, planRotation } from './rotation-plan.js';
import { type CertificateSecretContents, type SecretLike, decodeCertificateSecret, encodeCertificateSecret } from './secret-contents.js';

/** Where the caBundle goes: the webhook configuration (CaBundleInjector) in production. */
export interface BundlePublisher {
  inject(bundlePem: string): Promise<unknown>;
  /** The bundle the webhook configuration carries as last seen, or undefined. */
  publishedBundle(): string | undefined;
}

export interface SecretCertificateProviderOptions {
  kubeConfig: KubeConfig;
  secret: { namespace: string; name: string };
  /** The serving certificate's DNS names. */
  dnsNames: readonly string[];
  /** Names the CAs (`<name> CA <time> <random>`): the Service name. */
  caName: string;
  settings: RotationSettings;
  /** The Secret is re-read and re-planned at least this often (CERT_CHECK_INTERVAL). */
  checkIntervalMs: number;
  publisher: BundlePublisher;
  log: Logger;
  metrics?: Pick<Metrics, 'certificateExpiry' | 'certificateReloads'>;
  /** Clock for planning, generation and validity; tests move it. */
  now?: () => Date;
  /** How long start() retries transient API errors before giving up (default 60 s). */
  startTimeoutMs?: number;
  /** Retry delays after a failed check (default 1 s doubling, capped at the check interval). */
  backoff?: { initialMs: number; maxMs: number };
  /** Full re-list of the Secret watch (default 5 min). */
  resyncPeriodMs?: number;
  watchTimeoutSeconds?: number;
  requestTimeoutMs?: number;
  userAgent?: string;
}

const MAX_WRITE_ATTEMPTS = 5;
const MIN_CHECK_DELAY_MS = 1000;

export class SecretCertificateProvider implements CertificateProvider {
  private readonly client: CertificateSecretClient;
  private readonly reflector: Reflector<SecretObject>;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly backoff: Backoff;
  private readonly ref: string;
  private readonly serving: ServedCertificate;

  /** Hash of the last Secret pair refused (logged and counted once), and why. */
  private refused: { hash: string; error: string } | undefined;
  /** The Secret's pair as last seen (read, written or watched): readiness compares it with what is served. */
  private secretPairHash: string | undefined;
  private lastSeenResourceVersion: string | undefined;
  private lastWaiting: string | undefined;
  /** When the Secret's current state next needs a look (from the plan). */
  private wakeAt: Date | undefined;

  private checking: Promise<void> | undefined;
  private checkAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly options: SecretCertificateProviderOptions) {
    this.ref = `${options.secret.namespace}/${options.secret.name}`;
    this.log = options.log;
    this.now = options.now ?? (() => new Date());
    this.serving = new ServedCertificate({ log: options.log, logContext: { secret: this.ref }, metrics: options.metrics });
    const backoff = options.backoff ?? { initialMs: 1000, maxMs: options.checkIntervalMs };
    this.backoff = new Backoff(backoff.initialMs, Math.max(backoff.initialMs, backoff.maxMs));
    this.client = new CertificateSecretClient({
      kubeConfig: options.kubeConfig,
      namespace: options.secret.namespace,
      name: options.secret.name,
      userAgent: options.userAgent ?? 'registry-config-webhook/certificates',
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    });
    this.reflector = this.client.reflector({
      log: options.log,
      resyncPeriodMs: options.resyncPeriodMs ?? 5 * 60_000,
      ...(options.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
      sink: {
        replaceAll: (items) => this.onSecretSeen(items.find((item) => item.metadata?.name === options.secret.name)),
        upsert: (item) => this.onSecretSeen(item),
        remove: () => this.onSecretSeen(undefined),
      },
    });
  }

  /**
   * Converges the Secret (creating it when missing) and serves its pair. Transient API errors are
   * retried up to startTimeoutMs; anything else (RBAC, say) rejects at once, naming the Secret.
   */
  async start(): Promise<KeyPair> {
    if (this.serving.served && this.started) return this.serving.served.pair;
    this.stopped = false;
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    const backoff = new Backoff(Math.min(500, this.options.backoff?.initialMs ?? 500), 5000);
    let publishFailure: PublishError | undefined;
    for (;;) {
      try {
        await this.check();
        break;
      } catch (err) {
        if (err instanceof PublishError && this.serving.served) {
          publishFailure = err;
          break;
        }
        const delay = backoff.next();
        if (!isTransient(err) || Date.now() + delay > deadline || this.stopped) {
          throw new Error(`no serving certificate from Secret ${this.ref}: ${(err as Error).message}`);
        }
        this.log.warn({ secret: this.ref, error: (err as Error).message, retryInMs: delay }, `cannot converge Secret ${this.ref} yet; retrying`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    const served = this.serving.served;
    if (!served) throw new Error(`no serving certificate from Secret ${this.ref}: ${this.refused?.error ?? 'the Secret holds no usable pair'}`);
    this.started = true;
    if (publishFailure) this.scheduleRetry(publishFailure);
    void this.reflector.start();
    return served.pair;
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
    if (served && this.secretPairHash !== undefined && this.secretPairHash !== served.hash) {
      const why = this.refused?.hash === this.secretPairHash ? ` (${this.refused.error})` : '';
      return { ok: false, reason: `the pair in Secret ${this.ref} is not the served one${why}; serving the previous one, which expires at ${served.facts.notAfter.toISOString()}` };
    }
    return { ok: true };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.reflector.stop();
    await this.checking?.catch(() => undefined);
  }

  /** Runs a check now (or waits for the running one and runs another); rejects when it fails. For tests and diagnostics. */
  checkNow(): Promise<void> {
    return this.check();
  }

  /** The caBundle for what the Secret holds now (read fresh), or undefined when it holds no CA. */
  async secretBundle(): Promise<string | undefined> {
    const secret = await this.client.read();
    const bundle = caBundleOf(decodeCertificateSecret(secret as SecretLike | undefined));
    return bundle === '' ? undefined : bundle;
  }

  /** One check at a time; a request during a check runs one more right after. */
  private check(): Promise<void> {
    if (this.checking) {
      this.checkAgain = true;
      return this.checking;
    }
    const run = (async () => {
      let failure: unknown;
      do {
        this.checkAgain = false;
        failure = undefined;
        try {
          await this.converge();
        } catch (err) {
          failure = err;
        }
      } while (this.checkAgain && !this.stopped);
      if (failure !== undefined) throw failure;
    })();
    this.checking = run.finally(() => {
      this.checking = undefined;
    });
    this.checking.then(
      () => this.scheduled(),
      (err: unknown) => this.scheduleRetry(err),
    );
    return this.checking;
  }

  /** Read, plan, write (retrying lost races), serve, publish the bundle. */
  private async converge(): Promise<void> {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const secret = await this.client.read();
      const contents = decodeCertificateSecret(secret as SecretLike | undefined);
      const now = this.now();
      const plan = this.plan(contents, now);
      let stored = secret;
      let storedContents = contents;
      if (hasChanges(plan)) {
        storedContents = await applyRotationPlan(contents, plan, {
          now,
          settings: this.options.settings,
          dnsNames: this.options.dnsNames,
          name: this.options.caName,
        });
        const { data, annotations } = encodeCertificateSecret(storedContents, secret as SecretLike | undefined);
        const written = secret ? await this.client.replace(secret, data, annotations) : await this.client.create(data, annotations);
        if (written === 'conflict') {
          this.log.info({ secret: this.ref, attempt }, `Secret ${this.ref} was written by someone else meanwhile; re-reading it`);
          continue;
        }
        stored = written;
        this.log.info(
          { secret: this.ref, changes: plan.changes, phase: plan.phase, resourceVersion: written.metadata?.resourceVersion },
          `${secret ? 'updated' : 'created'} Secret ${this.ref}: ${plan.changes.join('; ')}`,
        );
      }
      if (this.stopped) return;
      this.seen(stored, storedContents);
      if (plan.waiting !== this.lastWaiting) {
        this.lastWaiting = plan.waiting;
        if (plan.waiting) this.log.warn({ secret: this.ref }, plan.waiting);
      }
      this.wakeAt = this.plan(storedContents, this.now()).wakeAt;
      try {
        await this.options.publisher.inject(caBundleOf(storedContents));
      } catch (err) {
        throw new PublishError(`cannot publish the caBundle of Secret ${this.ref}: ${(err as Error).message}`);
      }
      return;
    }
    throw new SecretApiError(`Secret ${this.ref} changed during each of ${MAX_WRITE_ATTEMPTS} write attempts`, 409);
  }

  private plan(contents: CertificateSecretContents, now: Date): RotationPlan {
    return planRotation({
      contents,
      now,
      settings: this.options.settings,
      dnsNames: this.options.dnsNames,
      publishedBundle: this.options.publisher.publishedBundle(),
    });
  }

  private scheduled(): void {
    this.backoff.reset();
    const untilWake = this.wakeAt ? this.wakeAt.getTime() - this.now().getTime() : Number.POSITIVE_INFINITY;
    this.schedule(Math.max(MIN_CHECK_DELAY_MS, Math.min(this.options.checkIntervalMs, untilWake)));
  }

  private scheduleRetry(err: unknown): void {
    if (!this.started) return; // start() retries and reports itself
    const delay = this.backoff.next();
    this.log.error({ secret: this.ref, error: (err as Error).message, retryInMs: delay }, `certificate check of Secret ${this.ref} failed`);
    this.schedule(delay);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check().catch(() => undefined), delayMs);
    this.timer.unref();
  }

  /** A watch event: serve what the Secret now holds and converge it if someone else changed it. */
  private onSecretSeen(secret: SecretObject | undefined): void {
    if (this.stopped) return;
    const resourceVersion = secret?.metadata?.resourceVersion;
    if (secret && resourceVersion === this.lastSeenResourceVersion) return;
    if (!secret) {
      this.log.warn({ secret: this.ref }, `Secret ${this.ref} was deleted; re-creating it`);
      this.lastSeenResourceVersion = undefined;
    } else {
      this.seen(secret, decodeCertificateSecret(secret as SecretLike));
    }
    void this.check().catch(() => undefined);
  }

  /** Records a state of the Secret and serves its pair when it is usable and new. */
  private seen(secret: V1Secret | SecretObject | undefined, contents: CertificateSecretContents): void {
    this.lastSeenResourceVersion = secret?.metadata?.resourceVersion;
    if (contents.tlsCert === undefined || contents.tlsKey === undefined) {
      this.secretPairHash = undefined;
      return;
    }
    const hash = pairHash(contents.tlsCert, contents.tlsKey);
    this.secretPairHash = hash;
    const previous = this.serving.served;
    if (previous?.hash === hash) {
      this.setCaExpiry(contents.caCert);
      return;
    }
    const inspection = inspectKeyPair({ cert: contents.tlsCert, key: contents.tlsKey }, this.now());
    if (!inspection.ok) {
      if (this.refused?.hash !== hash) {
        this.refused = { hash, error: inspection.error };
        if (previous) this.options.metrics?.certificateReloads.inc({ result: 'failure' });
        this.log.error({ secret: this.ref, reason: inspection.error }, `refusing the pair in Secret ${this.ref}: ${inspection.error}${previous ? '; still serving the previous one' : ''}`);
      }
      return;
    }
    const { ok: _ok, ...facts } = inspection;
    const pair: KeyPair = { cert: contents.tlsCert, key: contents.tlsKey, ...(contents.caCert !== undefined ? { ca: contents.caCert } : {}) };
    this.refused = undefined;
    this.setCaExpiry(contents.caCert);
    this.log.info(
      { secret: this.ref, fingerprint: facts.fingerprint, notAfter: facts.notAfter.toISOString(), ...(previous ? { previousFingerprint: previous.facts.fingerprint } : {}) },
      previous ? `serving the new certificate from Secret ${this.ref}` : `serving the certificate from Secret ${this.ref}`,
    );
    if (previous) this.options.metrics?.certificateReloads.inc({ result: 'success' });
    // Last, so subscriber failures are logged after the swap is announced.
    this.serving.serve(pair, hash, facts);
  }

  private setCaExpiry(caCert: string | undefined): void {
    if (!this.options.metrics || caCert === undefined) return;
    const ca = inspectCertificate(caCert, this.now(), 'CA certificate');
    if (ca.ok) this.options.metrics.certificateExpiry.set({ certificate: 'ca' }, ca.notAfter.getTime() / 1000);
  }
}

/** The Secret is right and served, but the caBundle could not be published: retried, not fatal. */
class PublishError extends Error {}

function pairHash(cert: string, key: string): string {
  return createHash('sha256').update(cert).update('\0').update(key).digest('hex');
}
