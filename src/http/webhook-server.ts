import type { Server, ServerOptions } from 'node:https';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { AdmissionHandler } from '../admission/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KeyPair } from '../tls/types.js';
import { ADMISSION_BODY_LIMIT, registerAdmissionRoute } from './admission-route.js';
import { BodyBudget, bodyBudgetLimits } from './body-budget.js';
import { installBodyBudget } from './body-budget-hook.js';
import { requireClientCertificate } from './client-certificate.js';
import { createGuardedHttpsServer } from './connection-guard.js';
import { createClientErrorHandler, installErrorHandlers } from './errors.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './limits.js';

/** The path the upstream Kyma chart registers: we are a drop-in replacement. */
export const REGISTRY_WEBHOOK_PATH = '/defaulting/registry-config-secrets';

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
  /** Timeouts, connection and body budgets; each unset one takes its default. */
  limits?: Partial<HttpLimits>;
}

/**
 * TLS settings of the HTTPS port (node:https speaks HTTP/1.1 only). With a client CA, a certificate
 * is asked of every client and refused by path: the resolver API on this port uses bearer tokens.
 * The CA is part of every secure context, so it still applies after a certificate swap.
 */
function tlsOptions(pair: KeyPair, clientCa: string | undefined): ServerOptions {
  return {
    cert: pair.cert,
    key: pair.key,
    minVersion: 'TLSv1.2',
    ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: false } : {}),
  };
}

export type WebhookServer = FastifyInstance<Server>;

/**
 * The HTTPS server kube-apiserver calls: HTTP/1.1 with long keep-alive, TLS 1.2+, admission
 * endpoint, optional extra routes, bounded in time (timeouts), connections and body bytes
 * (see limits.ts). Certificates are swapped with `useCertificate` without
 * dropping open connections.
 */
export async function createWebhookServer(options: WebhookServerOptions): Promise<WebhookServer & { useCertificate(pair: KeyPair): void; startDraining(): void }> {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const rejected = (reason: string) => options.metrics?.httpLimitRejections.inc({ reason });
  const app = Fastify({
    loggerInstance: options.log,
    logController: new LogController({ disableRequestLogging: true }),
    // Our own node:https server: the timeouts Node applies and the connection accounting live there.
    serverFactory: (handler) =>
      createGuardedHttpsServer(tlsOptions(options.certificate, options.clientCa), limits, handler, (reason) => rejected(`connection_${reason}`)),
    clientErrorHandler: createClientErrorHandler((kind) => rejected(kind === 'timeout' ? 'request_timeout' : kind)),
    // Requests that arrive on a kept-alive connection while we drain are still served.
    return503OnClosing: false,
    bodyLimit: 1024 * 1024,
  }) as unknown as WebhookServer;

  installErrorHandlers(app);
  installBodyBudget(app, {
    budget: new BodyBudget(bodyBudgetLimits(limits.bodyBudgetBytes)),
    bodyLimitBytes: ADMISSION_BODY_LIMIT,
    onReject: rejected,
  });

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
      app.server.setSecureContext(tlsOptions(pair, options.clientCa));
    },
    startDraining() {
      draining = true;
    },
  });
}
