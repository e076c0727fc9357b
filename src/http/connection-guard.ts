import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer, type Server, type ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** How long clients may take, and how many connections may be open at once. */
export interface ConnectionLimits {
  /** Request line and headers must arrive within this; it also bounds the TLS handshake and the wait for a first request. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this; then 408 and close. */
  requestTimeoutMs: number;
  /** A kept-alive connection with no request in flight is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections (TLS handshakes included); beyond it, an idle one makes room or the new one is refused. */
  maxConnections: number;
}

export type ConnectionCloseReason = 'evicted_idle' | 'refused';

type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** One TCP connection, how many requests it has in flight and whether it ever sent one. */
interface Tracked {
  socket: Socket;
  inFlight: number;
  served: boolean;
}

/**
 * The HTTPS server under the webhook, with the limits Node applies set explicitly and checked
 * often, and its own connection accounting.
 *
 * Node checks `headersTimeout` and `requestTimeout` only every `connectionsCheckingInterval`
 * (default 30 s), and Fastify leaves `headersTimeout` at 60 s; so both are set here, and the check
 * runs every `checkIntervalMs`. A connection that completes TLS and sends nothing is covered by
 * `headersTimeout` (Node starts it when the connection is accepted); one that never completes the
 * handshake by `handshakeTimeout`.
 *
 * `server.maxConnections` would refuse new connections once idle ones fill the table, which is
 * exactly what an attacker holding idle connections wants. Instead, at the limit a new connection
 * closes an idle one (no request in flight) and takes its place: the longest idle of those that
 * never sent a request, else the longest idle kept-alive one; only when every connection is busy
 * is the new one refused. Busy connections are bounded in time by the timeouts above. The API server
 * reuses its most recently used connection first, so the ones it relies on are never the longest
 * idle; closing an idle keep-alive connection can race a request the client is just sending on
 * it, which is why this happens only at the limit.
 */
export function createGuardedHttpsServer(
  tls: ServerOptions,
  limits: ConnectionLimits,
  handler: RequestHandler,
  onClose?: (reason: ConnectionCloseReason) => void,
): Server {
  const server = createServer({ ...tls, handshakeTimeout: limits.headersTimeoutMs, ...timeoutOptions(limits) }, handler);
  guardConnections(server, limits, onClose);
  return server;
}

/** The same limits for a plain-HTTP server (the probe and metrics port). */
export function createGuardedHttpServer(limits: ConnectionLimits, handler: RequestHandler, onClose?: (reason: ConnectionCloseReason) => void): HttpServer {
  const server = createHttpServer(timeoutOptions(limits), handler);
  guardConnections(server, limits, onClose);
  return server;
}

function timeoutOptions(limits: ConnectionLimits) {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** Sets the timeouts as properties too (what Node reads when it checks) and keeps the connection table. */
function guardConnections(server: HttpServer, limits: ConnectionLimits, onClose?: (reason: ConnectionCloseReason) => void): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;

  // Least recently active first: a connection is moved to the end whenever a request starts or ends.
  const open = new Map<Socket, Tracked>();
  const touch = (tracked: Tracked) => {
    if (open.delete(tracked.socket)) open.set(tracked.socket, tracked);
  };

  server.on('connection', (socket: Socket) => {
    if (open.size >= limits.maxConnections && !evictIdle()) {
      onClose?.('refused');
      socket.destroy();
      return;
    }
    open.set(socket, { socket, inFlight: 0, served: false });
    socket.once('close', () => open.delete(socket));
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const tracked = open.get(rawSocketOf(request.socket));
    if (!tracked) return;
    tracked.inFlight++;
    tracked.served = true;
    touch(tracked);
    response.once('close', () => {
      tracked.inFlight--;
      touch(tracked);
    });
  });

  /** Closes the longest idle connection that never sent a request, else the longest idle one; false when all are busy. */
  function evictIdle(): boolean {
    let keptAlive: Tracked | undefined;
    for (const tracked of open.values()) {
      if (tracked.inFlight > 0) continue;
      if (!tracked.served) return evict(tracked);
      keptAlive ??= tracked;
    }
    return keptAlive ? evict(keptAlive) : false;
  }

  function evict(tracked: Tracked): true {
    open.delete(tracked.socket);
    onClose?.('evicted_idle');
    tracked.socket.destroy();
    return true;
  }
}

/** The TCP socket under a TLS socket (`_parent` is how node:tls links them); a plain socket is its own. */
function rawSocketOf(socket: Socket): Socket {
  return (socket as TLSSocket & { _parent?: Socket | null })._parent ?? socket;
}
