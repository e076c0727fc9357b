import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseTimeoutParameter, reviewAdmission } from '../admission/index.js';
import type { AdmissionHandler, ReviewOutcome } from '../admission/index.js';
import type { Metrics } from '../metrics/metrics.js';
import { AdmissionMetrics } from './admission-metrics.js';
import { addJsonBodyParser } from './json-body-parser.js';

/** An UPDATE carries two objects; a Secret may hold up to 1 MiB. Fastify's 1 MiB default is too small. */
export const ADMISSION_BODY_LIMIT = 7 * 1024 * 1024;
/** Used when the API server sends no `?timeout=` (it always does; its default is 10 s). */
const DEFAULT_API_SERVER_TIMEOUT_MS = 10_000;
/** Never set a deadline shorter than this, whatever the margin says. */
const MIN_DEADLINE_MS = 250;
/** Reviews slower than this are logged at warn level. */
const SLOW_REVIEW_MS = 100;

export interface AdmissionRouteOptions {
  /** URL path the MutatingWebhookConfiguration calls, e.g. /defaulting/registry-config-secrets. */
  path: string;
  handler: AdmissionHandler;
  metrics?: Metrics;
  /** Subtracted from the API server's timeout to get our own deadline. */
  timeoutMarginMs?: number;
}


/**
 * Registers one admission webhook endpoint in its own encapsulated scope: only JSON bodies are
 * parsed there (anything else is 415), with a 7 MiB limit (413) and bounded nesting (400), and a
 * JSON parse error is a 400 that never quotes the body. Other methods on the path get 405.
 */
export function registerAdmissionRoute(app: FastifyInstance, options: AdmissionRouteOptions): void {
  const { path, handler, metrics } = options;
  const margin = options.timeoutMarginMs ?? 1000;
  const webhook = path;
  const recorder = metrics ? new AdmissionMetrics(metrics, webhook) : undefined;

  void app.register(async (scope) => {
    addJsonBodyParser(scope, { bodyLimit: ADMISSION_BODY_LIMIT });

    const routeOptions = {
      bodyLimit: ADMISSION_BODY_LIMIT,
      // No per-request child logger: a review's line carries the AdmissionReview uid, which is
      // what ties it to the API server's audit log, and a pino child per review (for Fastify's
      // req-N id) cost about 3 µs of CPU per review under load.
      childLoggerFactory: (logger: FastifyBaseLogger) => logger,
    };
    // The API server only ever POSTs; anything else on the path is a client mistake, not a missing route.
    scope.route({
      method: ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url: path,
      exposeHeadRoute: false,
      handler: (request: FastifyRequest, reply: FastifyReply) =>
        reply.code(405).header('allow', 'POST').send({ code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not allowed on ${path}; use POST` }),
    });
    // Not async: our handler decides synchronously, and answering in the same tick spares every
    // review a promise, a microtask and a timer (measured with `npm run bench`). Only an
    // asynchronous handler races the API server's deadline.
    scope.post(path, routeOptions, (request: FastifyRequest, reply: FastifyReply) => {
      const started = performance.now();
      recorder?.started();
      let work: ReturnType<typeof reviewAdmission>;
      try {
        work = reviewAdmission(request.body, handler);
      } catch (error) {
        recorder?.finished(elapsedSeconds(started));
        throw error;
      }
      if (!isPromise(work)) return answer(request, reply, work, started);
      const timeoutMs = parseTimeoutParameter((request.query as Record<string, unknown> | undefined)?.timeout) ?? DEFAULT_API_SERVER_TIMEOUT_MS;
      const budgetMs = Math.max(MIN_DEADLINE_MS, timeoutMs - margin);
      return withDeadline(work, budgetMs).then(
        (outcome) => {
          if (outcome !== undefined) return answer(request, reply, outcome, started);
          const latencySeconds = elapsedSeconds(started);
          recorder?.rejected('deadline', 503);
          recorder?.finished(latencySeconds);
          request.log.error({ webhook, deadlineMs: budgetMs, latencyMs: round(latencySeconds * 1000) }, 'admission review exceeded its deadline');
          return reply.code(503).header('retry-after', '1').send({
            code: 'DEADLINE_EXCEEDED',
            message: `admission review not decided within ${budgetMs} ms (API server timeout ${timeoutMs} ms minus margin); retry`,
          });
        },
        (error: unknown) => {
          recorder?.finished(elapsedSeconds(started));
          throw error;
        },
      );
    });
  });

  /** Sends a decided review (or the 400 for a malformed one), records it and logs its one line. */
  function answer(request: FastifyRequest, reply: FastifyReply, outcome: ReviewOutcome, started: number): FastifyReply {
    const latencySeconds = elapsedSeconds(started);
    recorder?.finished(latencySeconds);
    if (!outcome.ok) {
      recorder?.rejected('bad_review', 400);
      request.log.warn({ webhook, reason: outcome.message }, 'malformed admission review');
      return reply.code(400).send({ code: 'BAD_ADMISSION_REVIEW', message: outcome.message });
    }
    const s = outcome.summary;
    recorder?.answered(s);
    const latencyMs = round(latencySeconds * 1000);
    const line = {
      uid: s.uid,
      namespace: s.namespace,
      name: s.name,
      kind: s.kind,
      operation: s.operation,
      dryRun: s.dryRun,
      allowed: s.allowed,
      code: s.code,
      patched: s.patched,
      warnings: s.warnings,
      latencyMs,
    };
    if (latencyMs > SLOW_REVIEW_MS) request.log.warn(line, 'slow admission review');
    else request.log.info(line, 'admission review');
    // Serialised here, once: Fastify sends a string with a content type as it is.
    return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(outcome.response));
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return value instanceof Promise;
}

/** Races the work against a timer; undefined when the timer wins. */
async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const elapsedSeconds = (started: number) => (performance.now() - started) / 1000;
const round = (ms: number) => Math.round(ms * 1000) / 1000;
