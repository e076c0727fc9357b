// Reference floors between the bare baseline and the webhook: what the stack we build on costs
// before any of our own plumbing. FLOOR_LOG=off: a minimal Fastify 5 server with the bare server's
// TLS, JSON parsing and decision. FLOOR_LOG=on: the same plus one line per review through the
// production logger (src/logging: JSON at info, redaction, asynchronous stdout), as the
// throughput goal requires ("with logging as in production").
import Fastify, { LogController } from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../dist/logging/logger.js';
import { answerReview } from './bare-decision.mjs';

const certDir = process.env.CERT_DIR;
const log = process.env.FLOOR_LOG === 'on' ? createLogger({ level: 'info', format: 'json' }) : undefined;
const app = Fastify({
  ...(log ? { loggerInstance: log, logController: new LogController({ disableRequestLogging: true }) } : {}),
  https: { cert: readFileSync(join(certDir, 'tls.crt')), key: readFileSync(join(certDir, 'tls.key')) },
  keepAliveTimeout: 120_000,
});
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 7 * 1024 * 1024 }, (_request, body, done) => {
  try {
    done(null, JSON.parse(body.toString('utf8')));
  } catch {
    done(Object.assign(new Error('request body is not valid JSON'), { statusCode: 400 }));
  }
});
app.post('/defaulting/registry-config-secrets', (request, reply) => {
  const started = performance.now();
  const review = request.body;
  const answer = answerReview(review);
  if (log) {
    const { uid, namespace, name, operation } = review.request;
    request.log.info({ uid, namespace, name, kind: 'Secret', operation, dryRun: false, allowed: true, code: 200, patched: true, warnings: 0, latencyMs: performance.now() - started }, 'admission review');
  }
  return reply.header('content-type', 'application/json').send(answer);
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.send?.({ port: app.server.address().port });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
