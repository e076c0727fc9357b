// `npm run bench -- hostile`: the three attacks of issue 12 at once against the server started as
// `npm start` starts it (node dist/main.js) with the chart's heap flag, while a client sends one
// real recorded review every 100 ms on a kept-alive connection, as the API server does.
//   1. deeply nested JSON: 3 clients looping 7,000,000-byte bodies of `[` then `]`;
//   2. stalled bodies: 60 connections declaring 7 MiB and sending all but the last byte, reopened when closed;
//   3. idle TLS connections: opened 50 at a time as fast as they complete, each sends one request and then stays idle (5,000 at most).
// Prints the server's peak RSS (from /proc), the share of real reviews answered 200 within 1 s,
// and the goals. Before the attack it measures what one idle TLS connection costs.
// BENCH_HOSTILE_SECONDS (default 20) sets the attack's length.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { parse as parseYaml } from 'yaml';
import { fmt, readCa } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const certDir = fileURLToPath(new URL('../certs', import.meta.url));
const reviewsDir = fileURLToPath(new URL('../test/fixtures/admission-reviews/', import.meta.url));
const PATH = '/defaulting/registry-config-secrets';
const seconds = Number(process.env.BENCH_HOSTILE_SECONDS ?? 20);
const MiB = 1024 * 1024;

const values = parseYaml(readFileSync(`${root}/charts/registry-config-webhook/values.yaml`, 'utf8'));
const heapFlag = values.config.nodeOptions;
const memoryLimitBytes = parseQuantity(values.resources.limits.memory);

function parseQuantity(text) {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(String(text));
  return Number(match[1]) * { undefined: 1, Ki: 1024, Mi: MiB, Gi: 1024 * MiB }[match[2]];
}

const reviews = readdirSync(reviewsDir)
  .filter((f) => /\.v1(beta1)?\.json$/.test(f) && !f.includes('.response'))
  .sort()
  .map((f) => readFileSync(`${reviewsDir}${f}`));

/** `node dist/main.js` (what `npm start` runs after building) with the chart's NODE_OPTIONS. */
function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: heapFlag, PORT: '0', PROBE_PORT: '0', HOST: '127.0.0.1', CERT_DIR: certDir, KUBECONFIG: '/nonexistent', SHUTDOWN_DELAY: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffered = '';
    const onData = (chunk) => {
      buffered += chunk;
      const line = buffered.split('\n').find((l) => l.includes('registry-config-webhook serving'));
      if (!line) return;
      child.stdout.off('data', onData);
      child.stdout.resume(); // the server's log lines are not needed, but must be drained
      const { webhookPort, probePort } = JSON.parse(line);
      resolve({ child, webhookPort, probePort });
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before it served`)));
  });
}

function rssBytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function openTls(port, ca) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => resolve(socket));
    socket.on('error', () => resolve(undefined));
    socket.on('close', () => resolve(undefined));
  });
}

/** One POST; resolves with status (0 on a connection error) and milliseconds. */
function post(port, ca, agent, body, timeoutMs = 30_000) {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: `${PATH}?timeout=10s`, method: 'POST', servername: 'localhost', ca, agent, timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'user-agent': 'kube-apiserver-admission' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
        res.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(body);
  });
}

/** RSS of one idle TLS connection (after one request), measured on 1,000 of them. */
async function idleConnectionCost(server, ca) {
  const before = rssBytes(server.child.pid);
  const sockets = [];
  for (let i = 0; i < 1000; i++) {
    const socket = await openTls(server.webhookPort, ca);
    if (!socket) continue;
    socket.write(`GET ${PATH} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    sockets.push(socket);
  }
  await sleep(1000);
  const after = rssBytes(server.child.pid);
  for (const socket of sockets) socket.destroy();
  await sleep(1000);
  return (after - before) / sockets.length;
}

async function main() {
  const server = await startServer();
  process.once('exit', () => server.child.kill('SIGKILL'));
  const ca = readCa(certDir);
  const { webhookPort: port, child } = server;
  const baseline = rssBytes(child.pid);
  const perConnection = await idleConnectionCost(server, ca);
  console.log(`\n## Hostile clients (${seconds} s, server: node dist/main.js with NODE_OPTIONS=${heapFlag}, chart memory limit ${values.resources.limits.memory})`);
  console.log(`server RSS at rest ${fmt(baseline / MiB)} MiB; one idle TLS connection (after one request) ${fmt(perConnection / 1024, 0)} KiB of RSS`);

  let peak = rssBytes(child.pid);
  const sampler = setInterval(() => {
    const rss = rssBytes(child.pid);
    if (rss !== undefined) peak = Math.max(peak, rss);
  }, 50);
  // The attackers get their own threads (the idle-connection flood one of its own, so that it is not
  // starved by the others): the client below must not wait behind them for its own event loop.
  const attackCounts = Promise.all(
    [['deep', 'stalled'], ['idle']].map(
      (attacks) =>
        new Promise((resolve, reject) => {
          const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { port, ca, seconds, attacks } });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  ).then(([a, b]) => ({ ...a, idleOpened: b.idleOpened, idleOpenAtEnd: b.idleOpenAtEnd }));
  const until = performance.now() + seconds * 1000;
  const running = () => performance.now() < until;

  // The API server: one real review every 100 ms on a kept-alive connection.
  const apiServer = new Agent({ keepAlive: true, maxSockets: 4 });
  const legit = [];
  let n = 0;
  await sleep(500); // let the attacks build up first
  while (running()) {
    legit.push(post(port, ca, apiServer, reviews[n++ % reviews.length], 5000));
    await sleep(100);
  }
  const answers = await Promise.all(legit);
  const counts = await attackCounts;
  clearInterval(sampler);
  apiServer.destroy();

  const alive = child.exitCode === null && (await healthy(server.probePort));
  const within = answers.filter((a) => a.status === 200 && a.ms <= 1000).length;
  const share = within / answers.length;
  const sorted = answers.map((a) => a.ms).sort((a, b) => a - b);
  const p = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  console.log(`attacks: deep-nesting answers ${JSON.stringify(counts.deep)}; stalled-body outcomes ${JSON.stringify(counts.stalled)}; idle TLS connections opened ${counts.idleOpened}, still open at the end ${counts.idleOpenAtEnd}`);
  console.log(`real reviews: ${answers.length} sent, ${within} answered 200 within 1 s; latency p50 ${fmt(p(0.5))} ms, p99 ${fmt(p(0.99))} ms`);
  console.log('| goal | measured | met |');
  console.log('| --- | --- | --- |');
  console.log(`| server alive | ${alive ? 'alive' : 'dead'} | ${alive ? 'yes' : 'NO'} |`);
  console.log(`| peak RSS < ${values.resources.limits.memory} | ${fmt(peak / MiB)} MiB | ${peak < memoryLimitBytes ? 'yes' : 'NO'} |`);
  console.log(`| >= 95 % of real reviews 200 within 1 s | ${fmt(share * 100)} % | ${share >= 0.95 ? 'yes' : 'NO'} |`);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  process.exitCode = alive && peak < memoryLimitBytes && share >= 0.95 ? 0 : 1;
}

/** The three attacks, in a worker thread, until `seconds` are over; posts what they saw. */
async function runAttacks({ port, ca, seconds, attacks }) {
  const until = performance.now() + seconds * 1000;
  const running = () => performance.now() < until;
  const counts = { deep: {}, stalled: {}, idleOpened: 0, idleOpenAtEnd: 0 };
  const bump = (table, key) => (table[key] = (table[key] ?? 0) + 1);

  // 1. Deeply nested JSON.
  const deep = Buffer.concat([Buffer.alloc(3_500_000, '['), Buffer.alloc(3_500_000, ']')]);
  const deepClients = Array.from({ length: attacks.includes('deep') ? 3 : 0 }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    while (running()) bump(counts.deep, (await post(port, ca, agent, deep)).status);
    agent.destroy();
  });

  // 2. Stalled bodies (a refused attacker reconnects after 250 ms: on this shared machine an
  //    unpaced loop of handshakes measures CPU starvation, not what the server holds).
  const allButOne = Buffer.alloc(7 * MiB - 1, 0x20);
  const stalledClients = Array.from({ length: attacks.includes('stalled') ? 60 : 0 }, async () => {
    while (running()) {
      const socket = await openTls(port, ca);
      if (!socket) {
        bump(counts.stalled, 'connect failed');
        await sleep(50);
        continue;
      }
      const status = await new Promise((resolve) => {
        let head = '';
        socket.on('data', (chunk) => (head ||= chunk.toString('latin1', 0, 12)));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(head.slice(9, 12) || 'closed'));
        socket.write(`POST ${PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${7 * MiB}\r\n\r\n`);
        socket.write(allButOne);
      });
      bump(counts.stalled, status);
      if (status !== '408') await sleep(250);
    }
  });

  // 3. Idle TLS connections.
  const idle = [];
  const idleOpener = (async () => {
    while (attacks.includes('idle') && running() && counts.idleOpened < 5000) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => openTls(port, ca)));
      for (const socket of batch) {
        if (!socket) continue;
        socket.write(`GET ${PATH} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
        socket.on('data', () => undefined);
        idle.push(socket);
        counts.idleOpened++;
      }
    }
  })();

  await Promise.all([...deepClients, ...stalledClients, idleOpener]);
  counts.idleOpenAtEnd = idle.filter((socket) => !socket.destroyed).length;
  for (const socket of idle) socket.destroy();
  parentPort.postMessage(counts);
}

async function healthy(probePort) {
  try {
    const res = await fetch(`http://127.0.0.1:${probePort}/healthz`);
    return res.ok;
  } catch {
    return false;
  }
}

// An attacker's writes fail with EPIPE/ECONNRESET whenever the server hangs up on it: expected, not a bench failure.
process.on('uncaughtException', (error) => {
  if (error.code === 'EPIPE' || error.code === 'ECONNRESET') return;
  throw error;
});
if (isMainThread) await main();
else await runAttacks(workerData);
