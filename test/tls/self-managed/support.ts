import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMetrics, type Metrics } from '../../../src/metrics/metrics.js';
import { type RunningSelfManagedCertificates, type SelfManagedCertificateSettings, startSelfManagedCertificates } from '../../../src/tls/self-managed/index.js';
import { type FakeApiServer, type KubeObject, startFakeApiServer } from '../../support/fake-apiserver.js';
import { APISERVER_HTTP_DIR } from '../../support/fixtures.js';
import { captureLogs } from '../../support/log-capture.js';

export const NAMESPACE = 'rcw-system';
export const SERVICE = 'rcw';
export const SECRET = { namespace: NAMESPACE, name: 'rcw-tls' };
export const SERVING_NAME = `${SERVICE}.${NAMESPACE}.svc`;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** The two-entry configuration of the recording (mwc-create.json), as Helm would apply it: no caBundle. */
export function webhookConfigurationManifest(): KubeObject & { metadata: { name: string } } {
  const exchange = JSON.parse(readFileSync(join(APISERVER_HTTP_DIR, 'mwc-create.json'), 'utf8')) as { request: { body: KubeObject & { metadata: { name: string } } } };
  return exchange.request.body;
}
export const WEBHOOK_CONFIG = webhookConfigurationManifest().metadata.name;

export async function startFake(options: { seedWebhookConfiguration?: boolean } = {}): Promise<FakeApiServer> {
  const fake = await startFakeApiServer({ namespaces: ['default', 'kube-system', NAMESPACE] });
  if (options.seedWebhookConfiguration ?? true) fake.put(webhookConfigurationManifest());
  return fake;
}

interface WebhookEntry {
  clientConfig?: { caBundle?: string };
}

/** The PEM caBundle of each webhook entry as stored (undefined where absent). */
export function publishedBundles(fake: FakeApiServer): (string | undefined)[] {
  const configuration = fake.get<{ webhooks?: WebhookEntry[] }>('mutatingwebhookconfigurations', undefined, WEBHOOK_CONFIG);
  return (configuration?.webhooks ?? []).map((hook) => (hook.clientConfig?.caBundle ? Buffer.from(hook.clientConfig.caBundle, 'base64').toString('utf8') : undefined));
}

/** The bundle all entries carry; throws when they differ (the API server would then trust differently per entry). */
export function publishedBundle(fake: FakeApiServer): string {
  const bundles = publishedBundles(fake);
  const [first] = bundles;
  if (!first || bundles.some((bundle) => bundle !== first)) throw new Error(`webhook entries carry different caBundles: ${bundles.map((b) => (b ? fingerprints(b).join('+') : 'none')).join(' | ')}`);
  return first;
}

export function secretData(fake: FakeApiServer): Record<string, string> {
  const secret = fake.get<{ data?: Record<string, string> }>('secrets', SECRET.namespace, SECRET.name);
  return Object.fromEntries(Object.entries(secret?.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
}

export function fingerprints(bundle: string): string[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((pem) => new X509Certificate(pem).fingerprint256);
}

export function fingerprint(pem: string | undefined): string {
  return new X509Certificate(pem as string).fingerprint256;
}

export interface Replica {
  running: RunningSelfManagedCertificates;
  metrics: Metrics;
  logs: ReturnType<typeof captureLogs>;
}

/** One server replica's self-managed certificates, with test-sized settings. */
export async function startReplica(fake: FakeApiServer, overrides: Partial<SelfManagedCertificateSettings> = {}): Promise<Replica> {
  const logs = captureLogs('debug');
  const metrics = createMetrics({ processMetrics: false });
  const running = await startSelfManagedCertificates({
    kubeConfig: fake.kubeConfig(),
    secret: SECRET,
    webhookConfig: WEBHOOK_CONFIG,
    serviceName: SERVICE,
    namespace: NAMESPACE,
    caValidityMs: 365 * DAY,
    certValidityMs: 30 * DAY,
    checkIntervalMs: HOUR,
    retryBackoff: { initialMs: 50, maxMs: 500 },
    log: logs.log,
    metrics,
    ...overrides,
  });
  return { running, metrics, logs };
}

export async function gaugeValue(metrics: Metrics, name: 'certificateExpiry', labels: { certificate: 'serving' | 'ca' }): Promise<number | undefined> {
  const data = await metrics[name].get();
  return data.values.find((v) => v.labels.certificate === labels.certificate)?.value;
}

export async function counterValue(metrics: Metrics, labels: { result: 'success' | 'failure' }): Promise<number> {
  const data = await metrics.certificateReloads.get();
  return data.values.find((v) => v.labels.result === labels.result)?.value ?? 0;
}
