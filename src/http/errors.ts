import type { FastifyError, FastifyInstance } from 'fastify';

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
    return reply.code(status).send({ code: error.code ?? 'BAD_REQUEST', message: error.message });
  });
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });
}
