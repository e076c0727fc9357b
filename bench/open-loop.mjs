// An open-loop load generator: requests leave at a fixed rate whether or not earlier ones have been
// answered, as kube-apiserver sends reviews when writes arrive. autocannon's `overallRate` is not
// that: each connection sends its per-second quota back to back, then waits for the next second.
// Latency is measured from when a request was due, not when it went out, so a stalled server (or a
// stalled sender) is not hidden by requests that were never sent (coordinated omission).
//
// Raw TLS sockets and one pre-built request, like autocannon: node:https's client costs more CPU
// per request than the servers measured, and on a 2-core machine the sender would be the bottleneck.
import { connect } from 'node:tls';

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('0\r\n\r\n');

/** Sends `rate` requests per second for `durationSeconds` over at most `connections` keep-alive connections. */
export async function openLoop({ url, body, ca, rate, durationSeconds, connections = 50 }) {
  const target = new URL(url);
  const payload = Buffer.from(body);
  const request = Buffer.concat([
    Buffer.from(
      `POST ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\ncontent-type: application/json\r\n` +
        `user-agent: kube-apiserver-admission\r\naccept: application/json, */*\r\ncontent-length: ${payload.length}\r\n\r\n`,
    ),
    payload,
  ]);
  const total = Math.round(rate * durationSeconds);
  const latencies = new Float64Array(total);
  const queue = []; // due times of requests waiting for a free connection (indices follow)
  const idle = [];
  let sent = 0;
  let done = 0;
  let failures = 0;
  let start = 0;
  let resolveDone;
  const finished = new Promise((resolve) => (resolveDone = resolve));

  const open = () =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: target.hostname, port: Number(target.port), ca, servername: target.hostname }, () => resolve(conn));
      const conn = { socket, pending: undefined, buffer: Buffer.alloc(0) };
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        conn.buffer = conn.buffer.length === 0 ? chunk : Buffer.concat([conn.buffer, chunk]);
        const state = answerState(conn.buffer);
        if (state === 'partial') return;
        if (state !== 'ok') failures++;
        conn.buffer = Buffer.alloc(0);
        const { index, due } = conn.pending;
        latencies[index] = performance.now() - due;
        conn.pending = undefined;
        if (++done === total) resolveDone();
        next(conn);
      });
    });

  const next = (conn) => {
    const work = queue.shift();
    if (!work) return idle.push(conn);
    conn.pending = work;
    conn.socket.write(request);
  };

  const conns = await Promise.all(Array.from({ length: connections }, open));
  idle.push(...conns);
  start = performance.now();
  // Every millisecond (as often as timers fire), send every request that is due by now.
  const ticker = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    while (sent < due) {
      const index = sent++;
      queue.push({ index, due: start + (index / rate) * 1000 });
      const conn = idle.pop();
      if (conn) next(conn);
    }
  }, 1);
  await finished;
  const elapsed = (performance.now() - start) / 1000;
  clearInterval(ticker);
  for (const conn of conns) conn.socket.destroy();
  if (failures > 0) throw new Error(`${url}: ${failures} of ${total} open-loop requests failed`);
  const sorted = latencies.slice().sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { rps: total / elapsed, p50: at(0.5), p99: at(0.99), total };
}

/** Whether `buffer` holds one whole response (Content-Length or chunked body), and whether it is a 200. */
function answerState(buffer) {
  const headerEnd = buffer.indexOf(HEADER_END);
  if (headerEnd < 0) return 'partial';
  const head = buffer.toString('latin1', 0, headerEnd).toLowerCase();
  const length = /\r\ncontent-length: *(\d+)/.exec(head);
  const whole = length
    ? buffer.length >= headerEnd + 4 + Number(length[1])
    : buffer.length >= headerEnd + 4 + CHUNKED_END.length && buffer.subarray(buffer.length - CHUNKED_END.length).equals(CHUNKED_END);
  if (!whole) return 'partial';
  return head.startsWith('http/1.1 200') ? 'ok' : 'failed';
}
