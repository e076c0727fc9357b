import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { installErrorHandlers } from './errors.js';
import type { Readiness } from './readiness.js';

export interface ProbeServerOptions {
  log: Logger;
  readiness: Readiness;
  metrics?: Metrics;
}

/**
 * Plain-HTTP server for the kubelet and Prometheus, on its own port so that probes and scrapes
 * never queue behind admission traffic and need no TLS.
 */
export function createProbeServer(options: ProbeServerOptions): FastifyInstance {
  const app = Fastify({ loggerInstance: options.log, logController: new LogController({ disableRequestLogging: true }) });
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
