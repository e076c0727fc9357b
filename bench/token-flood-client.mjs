// The legitimate caller of the token-flood benchmark, in its own process so that the load generator's
// event loop does not delay it: GET the URL with its bearer token every INTERVAL_MS on one keep-alive
// connection until told to stop, then send back each answer's status and milliseconds.
import { Agent, request } from 'node:https';

const { URL: url, CA: ca, TOKEN: token } = process.env;
const interval = Number(process.env.INTERVAL_MS ?? 200);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const results = [];
const pending = new Set();

function ask() {
  const started = performance.now();
  const done = new Promise((resolve) => {
    const req = request(url, { ca, agent, headers: { authorization: `Bearer ${token}` }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end();
  }).then((result) => {
    results.push(result);
    pending.delete(done);
  });
  pending.add(done);
  return done;
}

await ask(); // its TokenReview and SubjectAccessReview are made (and cached) before the attack starts
results.length = 0;
process.send?.({ ready: true });
let ticker;
process.on('message', async (message) => {
  if (message === 'start') ticker = setInterval(() => void ask(), interval);
  if (message === 'stop') {
    clearInterval(ticker);
    await Promise.all(pending);
    agent.destroy();
    process.send?.({ results }, () => process.exit(0));
  }
});
