import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import { createProbeServer } from './http/probe-server.js';
import { Readiness } from './http/readiness.js';
import { createWebhookServer } from './http/webhook-server.js';
import { shutdown, type Stoppable } from './lifecycle/shutdown.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { mutateRegistrySecret } from './registry/index.js';
import { startCertificates } from './wiring/certificates.js';
import { startResolver } from './wiring/resolver.js';
import { startPropagation } from './wiring/propagation.js';
import { detectKubernetes } from './kube/detect.js';

export interface RunningServer {
  /** Bound addresses, useful when ports were 0. */
  webhookPort: number;
  probePort: number;
  webhook: FastifyInstance;
  probe: FastifyInstance;
  metrics: Metrics;
  readiness: Readiness;
  /** Runs the graceful shutdown sequence once; later calls return the same promise. */
  shutdown(reason: string): Promise<void>;
}

/**
 * Wires the parts together: certificates, resolver source, propagation, the HTTPS webhook server
 * and the plain-HTTP probe server. Every part is built from the Config alone; nothing here decides
 * anything about registries.
 */
export async function startServer(config: Config, log: Logger, options: { processMetrics?: boolean } = {}): Promise<RunningServer> {
  const metrics = createMetrics({ processMetrics: options.processMetrics ?? true });
  const readiness = new Readiness();
  const background: Stoppable[] = [];

  const kube = await detectKubernetes(config, log);

  const certificates = await startCertificates(config, { log, metrics, kube });
  readiness.add('certificate', () => certificates.provider.readiness());
  background.push({ name: 'certificates', stop: () => certificates.stop() });

  const resolver = await startResolver(config, { log, metrics, kube });
  if (resolver) {
    readiness.add('resolver', () => resolver.readiness());
    background.push({ name: 'resolver', stop: () => resolver.stop() });
  }

  const webhook = await createWebhookServer({
    certificate: certificates.provider.current(),
    log,
    handler: mutateRegistrySecret,
    ...(config.metrics === 'on' ? { metrics } : {}),
    timeoutMarginMs: config.reviewTimeoutMarginMs,
    maxEventLoopDelayMs: config.maxEventLoopDelayMs,
    ...(resolver ? { routes: resolver.routes } : {}),
  });
  const unsubscribe = certificates.provider.subscribe((pair) => webhook.useCertificate(pair));
  background.push({ name: 'certificate-subscription', stop: async () => unsubscribe() });

  const probe = createProbeServer({ log, readiness, ...(config.metrics === 'on' ? { metrics } : {}) });

  await webhook.listen({ port: config.port, host: config.host });
  await probe.listen({ port: config.probePort, host: config.host });

  const propagation = await startPropagation(config, { log, metrics, kube, resolver });

  const webhookPort = (webhook.server.address() as { port: number }).port;
  const probePort = (probe.server.address() as { port: number }).port;
  log.info({ webhookPort, probePort, certificates: certificates.mode, resolver: resolver?.mode ?? 'off', propagation: propagation ? 'on' : 'off' }, 'registry-config-webhook serving');

  let stopping: Promise<void> | undefined;
  return {
    webhookPort,
    probePort,
    webhook,
    probe,
    metrics,
    readiness,
    shutdown(reason: string) {
      stopping ??= shutdown(
        {
          log,
          readiness,
          delayMs: config.shutdownDelayMs,
          timeoutMs: config.shutdownTimeoutMs,
          onDrainStart: () => webhook.startDraining(),
          servers: [
            { name: 'webhook', stop: () => webhook.close(), force: () => webhook.server.closeAllConnections() },
          ],
          early: propagation ? [{ name: 'propagation', stop: () => propagation.stop() }] : [],
          background: [...background.reverse(), { name: 'probe', stop: () => probe.close() }],
        },
        reason,
      );
      return stopping;
    },
  };
}
