import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { type ConnectionLimits, createGuardedHttpServer } from './connection-guard.js';
import { createClientErrorHandler, installErrorHandlers } from './errors.js';
import type { Readiness } from './readiness.js';

export interface ProbeServerOptions {
  log: Logger;
  readiness: Readiness;
  metrics?: Metrics;
}

/**
 * The kubelet and Prometheus send small GETs at once; a few connections at a time. Bounded like the
 * HTTPS port, so that a client holding connections here cannot starve the probes (a failing
 * liveness probe restarts the pod). Keep-alive outlasts a 60 s scrape interval.
 */
export const PROBE_LIMITS: ConnectionLimits = { headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 72_000, maxConnections: 100 };

/**
 * Plain-HTTP server for the kubelet and Prometheus, on its own port so that probes and scrapes
 * never queue behind admission traffic and need no TLS.
 */
export function createProbeServer(options: ProbeServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.log,
    logController: new LogController({ disableRequestLogging: true }),
    serverFactory: (handler) => createGuardedHttpServer(PROBE_LIMITS, handler),
    clientErrorHandler: createClientErrorHandler(),
  });
  installErrorHandlers(app);

  // Liveness: the process answers. Nothing else: a failing dependency must not restart us.
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const result = options.readiness.evaluate();
    return reply.code(result.ok ? 200 : 503).send({ status: result.ok ? 'ok' : 'not ready', checks: result.checks });
  });

  if (options.metrics) {
    const registry = options.metrics.registry;
    app.get('/metrics', async (_request, reply) => {
      const body = await registry.metrics();
      return reply.header('content-type', registry.contentType).send(body);
    });
  }
  return app;
}
