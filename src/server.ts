import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import { createProbeServer } from './http/probe-server.js';
import { Readiness } from './http/readiness.js';
import { readClientCaBundle } from './http/client-certificate.js';
import { createWebhookServer } from './http/webhook-server.js';
import { detectKubernetes } from './kube/detect.js';
import { shutdown, type Stoppable } from './lifecycle/shutdown.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { mutateRegistrySecret } from './registry/index.js';
import { startCertificates } from './wiring/certificates.js';
import { createCredentialCheck, type CredentialCheckTestHooks } from './wiring/credential-check.js';
import { startPropagation } from './wiring/propagation.js';
import { startResolver } from './wiring/resolver.js';

export interface RunningServer {
  /** Bound ports, useful when 0 was asked for. */
  webhookPort: number;
  probePort: number;
  webhook: FastifyInstance;
  probe: FastifyInstance;
  metrics: Metrics;
  readiness: Readiness;
  /** Runs the graceful shutdown sequence once; later calls return the same promise. */
  shutdown(reason: string): Promise<void>;
}

interface StartContext {
  config: Config;
  log: Logger;
  metrics: Metrics;
  readiness: Readiness;
  probe: FastifyInstance;
  /** Stopped in reverse order on shutdown, or at once when start-up fails. */
  background: Stoppable[];
  setPhase(phase: string): void;
  credentialHooks?: CredentialCheckTestHooks;
}

/**
 * Wires the parts together: certificates, resolver source, propagation, the HTTPS webhook server
 * and the plain-HTTP probe server. Every part is built from the Config alone; nothing here decides
 * anything about registries.
 *
 * The probe server listens first: while the certificate Secret or the resolver's first list is
 * awaited, /healthz answers (no liveness restart loop) and /readyz names what is missing.
 */
export async function startServer(
  config: Config,
  log: Logger,
  options: { processMetrics?: boolean; credentialCheck?: CredentialCheckTestHooks } = {},
): Promise<RunningServer> {
  const metrics = createMetrics({ processMetrics: options.processMetrics ?? true });
  const readiness = new Readiness();
  let phase = 'starting';
  readiness.add('startup', () => ({ ok: false, reason: phase }));
  const probe = createProbeServer({ log, readiness, ...(config.metrics === 'on' ? { metrics } : {}) });
  await probe.listen({ port: config.probePort, host: config.host });

  const background: Stoppable[] = [];
  try {
    const running = await startParts({ config, log, metrics, readiness, probe, background, setPhase: (p) => (phase = p), ...(options.credentialCheck ? { credentialHooks: options.credentialCheck } : {}) });
    readiness.remove('startup');
    return running;
  } catch (err) {
    for (const part of background.reverse()) await part.stop().catch(() => undefined);
    await probe.close();
    throw err;
  }
}

async function startParts(ctx: StartContext): Promise<RunningServer> {
  const { config, log, metrics, readiness, probe, background } = ctx;
  const kube = await detectKubernetes(config, log);

  ctx.setPhase('loading certificates');
  const certificates = await startCertificates(config, { log, metrics, kube });
  readiness.add('certificate', () => certificates.provider.readiness());
  background.push({ name: 'certificates', stop: () => certificates.stop() });

  // Fed by the resolver's Secrets; checks start with propagation leadership (or at once without it).
  const credentials = config.resolverSource === 'off' ? undefined : createCredentialCheck(config, { log, metrics, kube, ...(ctx.credentialHooks ? { hooks: ctx.credentialHooks } : {}) });
  if (credentials) background.push({ name: 'credential-check', stop: () => credentials.stop() });

  ctx.setPhase("waiting for the resolver's first sync");
  const resolver = await startResolver(config, { log, metrics, kube, credentials });
  if (resolver) {
    readiness.add('resolver', () => resolver.readiness());
    background.push({ name: 'resolver', stop: () => resolver.stop() });
  }

  ctx.setPhase('starting the HTTPS server');
  const webhook = await createWebhookServer({
    certificate: certificates.provider.current(),
    log,
    handler: mutateRegistrySecret,
    ...(config.metrics === 'on' ? { metrics } : {}),
    timeoutMarginMs: config.reviewTimeoutMarginMs,
    maxEventLoopDelayMs: config.maxEventLoopDelayMs,
    limits: {
      headersTimeoutMs: config.headersTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      maxConnections: config.maxConnections,
      bodyBudgetBytes: config.bodyBudgetBytes,
    },
    ...(resolver ? { routes: resolver.routes } : {}),
    ...(config.webhookClientCa ? { clientCa: readClientCaBundle(config.webhookClientCa) } : {}),
  });
  const unsubscribe = certificates.provider.subscribe((pair) => webhook.useCertificate(pair));
  background.push({ name: 'certificate-subscription', stop: async () => unsubscribe() });
  await webhook.listen({ port: config.port, host: config.host });

  // After the webhook listens: every copy propagation writes passes through a webhook.
  ctx.setPhase('starting propagation');
  const propagation = await startPropagation(config, { log, metrics, kube, resolver, credentials });

  const webhookPort = (webhook.server.address() as { port: number }).port;
  const probePort = (probe.server.address() as { port: number }).port;
  log.info(
    { webhookPort, probePort, certificates: certificates.mode, resolver: resolver?.mode ?? 'off', propagation: propagation ? 'on' : 'off' },
    'registry-config-webhook serving',
  );

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
          // Hand the leader lease over at once, while this replica still serves.
          early: propagation ? [{ name: 'propagation', stop: () => propagation.stop() }] : [],
          servers: [{ name: 'webhook', stop: () => webhook.close(), force: () => webhook.server.closeAllConnections() }],
          background: [...background.reverse(), { name: 'probe', stop: () => probe.close() }],
        },
        reason,
      );
      return stopping;
    },
  };
}
