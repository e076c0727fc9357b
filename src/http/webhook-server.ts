import type { Server } from 'node:https';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { AdmissionHandler } from '../admission/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KeyPair } from '../tls/types.js';
import { registerAdmissionRoute } from './admission-route.js';
import { requireClientCertificate } from './client-certificate.js';
import { installErrorHandlers } from './errors.js';

/** The path the upstream Kyma chart registers: we are a drop-in replacement. */
export const REGISTRY_WEBHOOK_PATH = '/defaulting/registry-config-secrets';
/** The API server keeps connections open and reuses them; never drop an idle one before it does (90 s). */
export const KEEP_ALIVE_TIMEOUT_MS = 120_000;

export interface WebhookServerOptions {
  certificate: KeyPair;
  log: Logger;
  handler: AdmissionHandler;
  metrics?: Metrics;
  timeoutMarginMs?: number;
  /** Shed load with 503 while the event loop lags more than this; 0 or undefined disables. */
  maxEventLoopDelayMs?: number;
  /** PEM CA bundle (WEBHOOK_CLIENT_CA): the admission path then requires a client certificate it signed. */
  clientCa?: string;
  /** More routes on the same HTTPS port (the resolver API). */
  routes?: (app: FastifyInstance) => void;
}

export type WebhookServer = FastifyInstance<Server>;

/**
 * The HTTPS server kube-apiserver calls: HTTP/1.1 with long keep-alive, TLS 1.2+, admission
 * endpoint, optional extra routes. Certificates are swapped with `useCertificate` without
 * dropping open connections.
 */
export async function createWebhookServer(options: WebhookServerOptions): Promise<WebhookServer & { useCertificate(pair: KeyPair): void; startDraining(): void }> {
  const app = Fastify({
    loggerInstance: options.log,
    logController: new LogController({ disableRequestLogging: true }),
    https: {
      cert: options.certificate.cert,
      key: options.certificate.key,
      minVersion: 'TLSv1.2',
      // Asked of every client, refused by path: the resolver API on this port uses bearer tokens.
      ...(options.clientCa ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
    },
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Requests that arrive on a kept-alive connection while we drain are still served.
    return503OnClosing: false,
    requestTimeout: 30_000,
    bodyLimit: 1024 * 1024,
  }) as unknown as WebhookServer;

  installErrorHandlers(app);

  let draining = false;
  // While draining, ask keep-alive clients to reconnect (they land on another replica).
  // (Callback style: an async hook would cost a promise on every request.)
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) void reply.header('connection', 'close');
    done(null, payload);
  });

  if (options.maxEventLoopDelayMs && options.maxEventLoopDelayMs > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: options.maxEventLoopDelayMs,
      retryAfter: 1,
      pressureHandler: (_request, reply, type, value) => {
        options.metrics?.webhookRejected.inc({ webhook: 'all', reason: 'overload' });
        void reply
          .code(503)
          .header('retry-after', '1')
          .send({ code: 'OVERLOADED', message: `server overloaded (${String(type)} ${String(value)}); retry` });
      },
    });
  }

  if (options.clientCa) {
    requireClientCertificate(app, { path: REGISTRY_WEBHOOK_PATH, onRefused: () => options.metrics?.webhookRejected.inc({ webhook: REGISTRY_WEBHOOK_PATH, reason: 'client_certificate' }) });
  }

  registerAdmissionRoute(app, {
    path: REGISTRY_WEBHOOK_PATH,
    handler: options.handler,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.timeoutMarginMs !== undefined ? { timeoutMarginMs: options.timeoutMarginMs } : {}),
  });
  options.routes?.(app);

  return Object.assign(app, {
    useCertificate(pair: KeyPair) {
      app.server.setSecureContext({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2', ...(options.clientCa ? { ca: options.clientCa } : {}) });
    },
    startDraining() {
      draining = true;
    },
  });
}
