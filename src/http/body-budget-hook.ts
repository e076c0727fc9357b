import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BodyBudget } from './body-budget.js';

export interface BodyBudgetHookOptions {
  budget: BodyBudget;
  /** The largest body any route accepts; a larger Content-Length is refused before a byte of it is read. */
  bodyLimitBytes: number;
  onReject?: (reason: 'body_budget' | 'body_too_large') => void;
}

/** How long a refused client has to read its answer and stop sending before the connection is cut. */
const LINGER_MS = 1000;

/**
 * Admits a request's body against the budget as soon as its headers are in, before the body is read.
 * A refusal closes the connection: the client may be mid-way through sending megabytes, and the only
 * way to stop receiving them is to hang up. It closes the way nginx's lingering close does: answer,
 * send FIN, discard what still arrives for at most a second, then cut. Cutting at once would make
 * the kernel answer the unread bytes with a reset, and the client would lose the 503.
 */
export function installBodyBudget(app: FastifyInstance, options: BodyBudgetHookOptions): void {
  const { budget, bodyLimitBytes, onReject } = options;
  // Callback style: an async hook would cost a promise on every review.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    const bytes = declaredBodyBytes(request, bodyLimitBytes);
    if (bytes === 0) return done();
    if (bytes > bodyLimitBytes) {
      onReject?.('body_too_large');
      closeAfterAnswer(request, reply);
      void reply
        .code(413)
        .send({ code: 'BODY_TOO_LARGE', message: `request body of ${bytes} bytes is over the limit of ${bodyLimitBytes} bytes` });
      return;
    }
    const release = budget.tryReserve(bytes);
    if (!release) {
      onReject?.('body_budget');
      closeAfterAnswer(request, reply);
      void reply
        .code(503)
        .header('retry-after', '1')
        .send({ code: 'BODY_BUDGET_EXCEEDED', message: `too many request body bytes in flight to accept ${bytes} more; retry` });
      return;
    }
    reply.raw.once('close', release);
    done();
  });
}

/** Once the answer is written: FIN, then the rest of the body is discarded (Node's http parser reads it), then cut. */
function closeAfterAnswer(request: FastifyRequest, reply: FastifyReply): void {
  const socket = request.raw.socket;
  reply.raw.once('finish', () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

/** Content-Length when given, the whole limit for a body of unknown length, 0 for none (or a malformed length, which Fastify rejects). */
function declaredBodyBytes(request: FastifyRequest, bodyLimitBytes: number): number {
  const length = request.headers['content-length'];
  if (length !== undefined) {
    const bytes = Number(length);
    return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : 0;
  }
  return request.headers['transfer-encoding'] !== undefined ? bodyLimitBytes : 0;
}
