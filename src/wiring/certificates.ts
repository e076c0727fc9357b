import type { Config } from '../config/config.js';
import type { KubeConnection } from '../kube/detect.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { ensureDevCertificates, serviceDnsNames } from '../tls/dev-certificates.js';
import { FileCertificateProvider } from '../tls/file-certificate-provider.js';
import { startSelfManagedCertificates } from '../tls/self-managed/index.js';
import type { CertificateProvider } from '../tls/types.js';

export interface RunningCertificates {
  mode: 'files' | 'self-managed';
  provider: CertificateProvider;
  stop(): Promise<void>;
}

/**
 * Files mode (default): serve CERT_DIR, hot-reloaded; outside a cluster, generate dev
 * certificates there first when none exist. Self-managed mode: keep CA and serving pair in
 * CERT_SECRET and the caBundle of WEBHOOK_CONFIG current.
 */
export async function startCertificates(
  config: Config,
  deps: { log: Logger; metrics: Metrics; kube: KubeConnection | undefined },
): Promise<RunningCertificates> {
  const log = deps.log.child({ component: 'certificates' });
  if (config.certSecret && config.webhookConfig) {
    if (!deps.kube) throw new Error('self-managed certificates (CERT_SECRET) need a Kubernetes API server');
    const running = await startSelfManagedCertificates({
      kubeConfig: deps.kube.kubeConfig,
      secret: config.certSecret,
      webhookConfig: config.webhookConfig,
      serviceName: config.serviceName,
      namespace: config.podNamespace,
      caValidityMs: config.caValidityMs,
      certValidityMs: config.certValidityMs,
      checkIntervalMs: config.certCheckIntervalMs,
      log,
      metrics: deps.metrics,
      identity: config.podName,
    });
    return { mode: 'self-managed', provider: running.provider, stop: running.stop };
  }
  // In a pod the certificate comes from a mounted Secret (cert-manager, Helm): a missing one is a
  // deployment error to report, not something to paper over with a self-signed pair.
  if (!deps.kube?.inCluster) {
    await ensureDevCertificates(config.certDir, {
      dnsNames: ['localhost', ...serviceDnsNames(config.serviceName, config.podNamespace)],
      log,
    });
  }
  const provider = new FileCertificateProvider({ dir: config.certDir, pollIntervalMs: config.certPollIntervalMs, log, metrics: deps.metrics });
  await provider.start();
  return { mode: 'files', provider, stop: () => provider.stop() };
}
