import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance } from 'fastify';

/** This project's code for each status Fastify itself may answer with; its own `FST_ERR_*` codes never reach a client. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'BODY_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'HEADERS_TOO_LARGE',
};

/** Fastify's codes that have a more precise name here than their status gives. */
const CODE_BY_FASTIFY_CODE: Record<string, string> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_CONTENT_LENGTH',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'BAD_URL',
};

/** The code a client sees for an error with this status and (maybe Fastify's) code. */
export function clientErrorCode(status: number, code: string | undefined): string {
  if (code !== undefined && !code.startsWith('FST_')) return code;
  return (code !== undefined ? CODE_BY_FASTIFY_CODE[code] : undefined) ?? CODE_BY_STATUS[status] ?? 'BAD_REQUEST';
}

/**
 * One JSON error shape for every non-admission failure: `{code, message}` with the right 4xx.
 * 5xx messages are generic: an unexpected exception may carry request content.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ code: error.code, errorName: error.name }, 'unhandled error');
      return reply.code(status).send({ code: 'INTERNAL', message: 'internal server error' });
    }
    request.log.warn({ code: error.code, status }, error.message);
    return reply.code(status).send({ code: clientErrorCode(status, error.code), message: error.message });
  });
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });
}

/** How long an answered bad client has to read its error before the connection is cut. */
const CLOSE_GRACE_MS = 1000;

export type ClientErrorKind = 'timeout' | 'headers_too_large' | 'malformed';

/**
 * For Fastify's `clientErrorHandler`: errors Node finds before a request reaches a route (a request
 * not received within `requestTimeout`/`headersTimeout`, oversized headers, unparseable HTTP).
 * Answers in the same `{code, message}` shape and closes the connection.
 */
export function createClientErrorHandler(onError?: (kind: ClientErrorKind) => void): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, kind, message]: [number, ClientErrorKind, string] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'timeout', 'request not received in time']
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'headers_too_large', 'request headers too large']
          : [400, 'malformed', 'malformed HTTP request'];
    onError?.(kind);
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ code: CODE_BY_STATUS[status], message });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    // A client that does not read its answer does not hold the connection either.
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}
