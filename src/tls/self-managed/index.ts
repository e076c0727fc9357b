/**
 * Self-managed certificates (CERT_SECRET + WEBHOOK_CONFIG): the CA and serving pair live in a
 * Secret this server keeps, the caBundle of the MutatingWebhookConfiguration is kept equal to the
 * Secret's CA(s). See rotation-plan.ts for the rotation timeline.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { CaBundleInjector } from '../../kube/webhook-configuration.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics/metrics.js';
import { serviceDnsNames } from '../dev-certificates.js';
import { bundleTrusts } from './ca-bundle.js';
import { SecretCertificateProvider } from './secret-certificate-provider.js';

export { SecretCertificateProvider, type BundlePublisher } from './secret-certificate-provider.js';
export { planRotation, type RotationPlan, type RotationSettings } from './rotation-plan.js';
export { SECRET_KEYS, ROTATION_ANNOTATIONS } from './secret-contents.js';

/** The overlap of a CA rotation is the check interval, but never shorter than this. */
export const MIN_CA_OVERLAP_MS = 10 * 60_000;

export interface SelfManagedCertificateSettings {
  kubeConfig: KubeConfig;
  /** CERT_SECRET. */
  secret: { namespace: string; name: string };
  /** WEBHOOK_CONFIG: the MutatingWebhookConfiguration whose caBundle is kept current. */
  webhookConfig: string;
  /** SERVICE_NAME and POD_NAMESPACE: the serving certificate is for the Service's four DNS names. */
  serviceName: string;
  namespace: string;
  caValidityMs: number;
  certValidityMs: number;
  /** CERT_CHECK_INTERVAL. */
  checkIntervalMs: number;
  log: Logger;
  metrics?: Pick<Metrics, 'certificateExpiry' | 'certificateReloads' | 'certificateCaInBundle' | 'onScrape'>;
  now?: () => Date;
  /** CA rotation overlap (publish -> switch -> drop); default max(check interval, 10 min). */
  caOverlapMs?: number;
  /** Bound on start-up retries of transient API errors (default 60 s). */
  startTimeoutMs?: number;
  /** Retry delays after failed checks and re-injections (default 1 s doubling, capped at the check interval / 1 min). */
  retryBackoff?: { initialMs: number; maxMs: number };
  /** Re-list period of both watches (default 5 min). */
  resyncPeriodMs?: number;
  watchTimeoutSeconds?: number;
  /** Appended to the User-Agent (and so the managedFields manager): the pod name. */
  identity?: string;
}

export interface RunningSelfManagedCertificates {
  provider: SecretCertificateProvider;
  injector: CaBundleInjector;
  /** Stops the periodic check and both watches. */
  stop(): Promise<void>;
}

/**
 * Converges the Secret, serves its pair, injects the caBundle and keeps all three current.
 * Resolves once a pair is served (the caBundle injection may still be retrying: it is logged);
 * rejects when the Secret cannot be read or written (RBAC, say), naming the Secret.
 */
export async function startSelfManagedCertificates(settings: SelfManagedCertificateSettings): Promise<RunningSelfManagedCertificates> {
  const log = settings.log;
  const userAgent = `registry-config-webhook/certificates${settings.identity ? ` (${settings.identity})` : ''}`;
  const common = {
    kubeConfig: settings.kubeConfig,
    log,
    userAgent,
    ...(settings.resyncPeriodMs !== undefined ? { resyncPeriodMs: settings.resyncPeriodMs } : {}),
    ...(settings.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: settings.watchTimeoutSeconds } : {}),
  };
  const injector: CaBundleInjector = new CaBundleInjector({
    ...common,
    name: settings.webhookConfig,
    ...(settings.retryBackoff ? { backoff: settings.retryBackoff } : {}),
    // Re-injection after someone changed the configuration uses the Secret as it is now.
    desiredBundle: () => provider.secretBundle().catch(() => undefined),
  });
  const provider: SecretCertificateProvider = new SecretCertificateProvider({
    ...common,
    secret: settings.secret,
    dnsNames: serviceDnsNames(settings.serviceName, settings.namespace),
    caName: settings.serviceName,
    settings: {
      caValidityMs: settings.caValidityMs,
      certValidityMs: settings.certValidityMs,
      overlapMs: settings.caOverlapMs ?? Math.max(settings.checkIntervalMs, MIN_CA_OVERLAP_MS),
    },
    checkIntervalMs: settings.checkIntervalMs,
    publisher: injector,
    ...(settings.retryBackoff ? { backoff: settings.retryBackoff } : {}),
    ...(settings.metrics ? { metrics: settings.metrics } : {}),
    ...(settings.now ? { now: settings.now } : {}),
    ...(settings.startTimeoutMs !== undefined ? { startTimeoutMs: settings.startTimeoutMs } : {}),
  });
  void injector.start();
  try {
    await provider.start();
  } catch (err) {
    await Promise.all([provider.stop(), injector.stop()]);
    throw err;
  }
  if (settings.metrics) publishCaInBundle(settings.metrics, settings.webhookConfig, injector, provider);
  log.info(
    { secret: `${settings.secret.namespace}/${settings.secret.name}`, webhookConfiguration: settings.webhookConfig, dnsNames: serviceDnsNames(settings.serviceName, settings.namespace) },
    'self-managed certificates started',
  );
  return {
    provider,
    injector,
    async stop() {
      await Promise.all([provider.stop(), injector.stop()]);
    },
  };
}

/**
 * At each scrape: 1 when the caBundle every entry of the configuration carries (as last watched)
 * trusts the served certificate, 0 otherwise (entries differ, no caBundle, another CA). Absent
 * while the configuration is not known to exist (not yet read, or deleted to break glass).
 */
function publishCaInBundle(
  metrics: Pick<Metrics, 'certificateCaInBundle' | 'onScrape'>,
  configuration: string,
  injector: Pick<CaBundleInjector, 'publishedBundle' | 'hasConfiguration'>,
  provider: Pick<SecretCertificateProvider, 'current'>,
): void {
  metrics.onScrape(() => {
    if (!injector.hasConfiguration()) {
      metrics.certificateCaInBundle.remove({ configuration });
      return;
    }
    const bundle = injector.publishedBundle();
    const trusted = bundle !== undefined && bundleTrusts(bundle, provider.current().cert);
    metrics.certificateCaInBundle.set({ configuration }, trusted ? 1 : 0);
  });
}
