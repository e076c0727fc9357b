/**
 * The resolver's HTTP API on the webhook's HTTPS port:
 * `GET /v1/namespaces/{namespace}/registry-config` answers the current config (200) or why none
 * applies (404); `?watch=true` streams NDJSON events for that namespace until the client leaves.
 * `GET /openapi.json` describes them (no auth: it says nothing about any namespace).
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../logger.js';
import type { CredentialStatus, SecretName } from '../registry/registry-config.js';
import type { Resolution } from '../registry/precedence.js';
import { isNamespaceName, NDJSON_CONTENT_TYPE, NO_REGISTRY_CONFIG, REGISTRY_CONFIG_ROUTE, type ErrorBody, type RegistryConfig, type RegistryConfigEvent } from './api.js';
import { OPENAPI_PATH, resolverOpenApiDocument } from './openapi.js';
import type { RegistryConfigReader } from './registry-index.js';

export type AuthorizeDecision =
  | { allowed: true }
  | { allowed: false; status: 401 | 403; reason: string }
  /** Deciding would take more API calls than the budget allows now: retry after that many seconds. */
  | { allowed: false; status: 429; reason: string; retryAfterSeconds: number };

/**
 * Decides whether the caller may read `namespace`'s registry config (in a cluster: TokenReview +
 * SubjectAccessReview). Called once per GET and once when a watch starts. A rejection (throw) is
 * answered 503 so a flaky API server is not mistaken for a denial.
 */
export type AuthorizeHook = (request: { authorization: string | undefined }, namespace: string) => Promise<AuthorizeDecision>;

export interface ResolverRoutesOptions {
  index: RegistryConfigReader;
  /** Absent: anyone who reaches the port may ask (local mode). */
  authorize?: AuthorizeHook;
  /** Interval of `{"type":"HEARTBEAT"}` lines on idle watch streams. */
  heartbeatMs?: number;
  log?: Logger;
  /** The credential check's status of the Secret an answer names; absent: answers carry no `credentials`. */
  credentials?: CredentialLookup;
  credentialChanges?: CredentialChanges;
}

export type CredentialLookup = (secret: SecretName) => CredentialStatus;
/** Subscribes to changes of credential statuses (a watch sends MODIFIED for its Secret); returns the unsubscribe function. */
export type CredentialChanges = (listener: (secret: SecretName) => void) => () => void;

/** Shorter than the usual 60 s proxy idle timeouts (nginx, ELB). */
export const DEFAULT_HEARTBEAT_MS = 30_000;
/** A watcher that reads nothing while this much is queued is dropped; it reconnects and gets the current state. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export function registerResolverRoutes(app: FastifyInstance, options: ResolverRoutesOptions): void {
  const { index, authorize } = options;
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const openStreams = new Set<ServerResponse>();

  // Open watches would hold server.close() until the shutdown timeout; end them so clients reconnect elsewhere.
  app.addHook('preClose', async () => {
    for (const response of openStreams) response.end();
  });

  const openApiJson = JSON.stringify(resolverOpenApiDocument);
  app.get(OPENAPI_PATH, { exposeHeadRoute: false }, async (_request, reply) => {
    return reply.code(200).header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-cache').send(openApiJson);
  });

  app.get(REGISTRY_CONFIG_ROUTE, { exposeHeadRoute: false }, async (request: FastifyRequest, reply: FastifyReply) => {
    const log = options.log ?? request.log;
    const { namespace } = request.params as { namespace: string };
    if (!isNamespaceName(namespace)) {
      const shown = namespace.length > 70 ? `${namespace.slice(0, 70)}…` : namespace;
      return error(reply, 400, 'INVALID_NAMESPACE', `invalid namespace "${shown}": must be a DNS-1123 label (a-z, 0-9, '-', at most 63 characters)`);
    }
    const watch = parseWatchParameter((request.query as Record<string, unknown> | undefined)?.watch);
    if (watch === undefined) return error(reply, 400, 'INVALID_WATCH', 'watch must be true, 1, false or 0');

    if (authorize) {
      let decision: AuthorizeDecision;
      try {
        decision = await authorize({ authorization: request.headers.authorization }, namespace);
      } catch (err) {
        log.error({ namespace, errorName: (err as Error).name, error: (err as Error).message }, 'resolver authorization failed');
        void reply.header('retry-after', '1');
        return error(reply, 503, 'AUTHORIZATION_UNAVAILABLE', 'authorization check failed; retry');
      }
      if (!decision.allowed) {
        if (decision.status === 429) {
          void reply.header('retry-after', String(decision.retryAfterSeconds));
          return error(reply, 429, 'TOO_MANY_REQUESTS', decision.reason);
        }
        if (decision.status === 401) void reply.header('www-authenticate', 'Bearer');
        return error(reply, decision.status, decision.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', decision.reason);
      }
    }

    if (!watch) {
      const resolution = index.resolve(namespace);
      void reply.header('cache-control', 'no-store');
      if (resolution.found) return reply.code(200).send(withCredentials(resolution.config, options.credentials));
      return reply.code(404).send({ code: NO_REGISTRY_CONFIG, message: resolution.notFound.reason, ...resolution.notFound });
    }

    reply.hijack();
    streamWatch(request, reply.raw, { index, namespace, heartbeatMs, log, openStreams, credentials: options.credentials, credentialChanges: options.credentialChanges });
    return reply;
  });
}

function streamWatch(
  request: FastifyRequest,
  response: ServerResponse,
  context: { index: RegistryConfigReader; namespace: string; heartbeatMs: number; log: Logger; openStreams: Set<ServerResponse>; credentials: CredentialLookup | undefined; credentialChanges: CredentialChanges | undefined },
): void {
  const { index, namespace, log, openStreams, credentials } = context;
  // The stream is meant to stay open: no socket idle timeout, and each event leaves at once.
  request.raw.socket.setTimeout(0);
  request.raw.socket.setNoDelay(true);
  response.writeHead(200, {
    'content-type': NDJSON_CONTENT_TYPE,
    'cache-control': 'no-store',
    // nginx would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });

  const send = (event: RegistryConfigEvent): void => {
    if (response.writableEnded || response.destroyed) return;
    response.write(`${JSON.stringify(event)}\n`);
    if (response.writableLength > MAX_BUFFERED_BYTES) {
      log.warn({ namespace }, 'resolver watcher is not reading; dropping its stream');
      response.destroy();
    }
  };

  // Subscribe before reading the current answer: nothing can slip in between (one thread).
  const unsubscribe = index.subscribe(namespace, (resolution) => send(eventOf(resolution, 'MODIFIED', credentials)));
  // A new check outcome for the Secret this namespace resolves to is a new answer too.
  const unsubscribeCredentials = context.credentialChanges?.((secret) => {
    const resolution = index.resolve(namespace);
    if (resolution.found && resolution.config.secret.namespace === secret.namespace && resolution.config.secret.name === secret.name) {
      send(eventOf(resolution, 'MODIFIED', credentials));
    }
  });
  const heartbeat = setInterval(() => send({ type: 'HEARTBEAT' }), context.heartbeatMs);
  openStreams.add(response);
  log.debug({ namespace }, 'resolver watch opened');

  let closed = false;
  response.on('close', () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    unsubscribeCredentials?.();
    clearInterval(heartbeat);
    openStreams.delete(response);
    log.debug({ namespace }, 'resolver watch closed');
  });

  send(eventOf(index.resolve(namespace), 'ADDED', credentials));
}

function eventOf(resolution: Resolution, typeWhenFound: 'ADDED' | 'MODIFIED', credentials: CredentialLookup | undefined): RegistryConfigEvent {
  if (resolution.found) return { type: typeWhenFound, config: withCredentials(resolution.config, credentials) };
  return { type: 'DELETED', config: null, ...resolution.notFound };
}

/** The answer plus the credential check's status of its Secret (never a credential). */
function withCredentials(config: RegistryConfig, credentials: CredentialLookup | undefined): RegistryConfig {
  return credentials === undefined ? config : { ...config, credentials: credentials(config.secret) };
}

function parseWatchParameter(value: unknown): boolean | undefined {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  return undefined;
}

function error(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  const body: ErrorBody = { code, message };
  return reply.code(status).send(body);
}
