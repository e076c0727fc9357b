// The baseline: a minimal node:https server doing the same validation and patch as the webhook
// (the same pure decision function), with none of the framework, logging or metrics around it.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { answerReview } from './bare-decision.mjs';

const certDir = process.env.CERT_DIR;
const server = createServer({ cert: readFileSync(join(certDir, 'tls.crt')), key: readFileSync(join(certDir, 'tls.key')), keepAliveTimeout: 120_000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let review;
    try {
      review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"bad json"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(answerReview(review));
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
