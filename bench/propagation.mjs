// Propagation at cluster scale: the whole server (`node dist/main.js`, PROPAGATION=on, the
// Kubernetes resolver) against the fake API server with a per-request latency and API Priority and
// Fairness (a few seats for Secret writes; past them the recorded 429 with Retry-After).
//
//   npm run bench -- propagation                  (builds dist/ first)
//   BENCH_NAMESPACES=1000 node bench/propagation.mjs
//
// Measures: time from the base's creation to the last copy written, time from a password change
// to the last copy updated, writes made (accepted / turned away with 429), and the server's peak
// RSS. The fake runs in this process and the server in a child process, so the RSS is the
// server's alone: its VmHWM from /proc/<pid>/status (the kernel's peak resident set), or the
// highest of `ps -o rss` samples where there is no /proc.
//
// Settings (environment): BENCH_NAMESPACES (10000), BENCH_LATENCY_MS (3), BENCH_APF_SEATS (8),
// BENCH_TIMEOUT_S (300); PROPAGATION_CONCURRENCY and PROPAGATION_WRITES_PER_SECOND pass through
// to the server.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { registrySecret as sharedRegistrySecret } from './registry-secret.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// The chart's default NODE_OPTIONS (values.yaml config.nodeOptions), read so the two cannot drift.
const chartNodeOptions = parseYaml(readFileSync(`${root}/charts/registry-config-webhook/values.yaml`, 'utf8')).config.nodeOptions;
const NAMESPACES = Number(process.env.BENCH_NAMESPACES ?? 10_000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 3);
const SEATS = Number(process.env.BENCH_APF_SEATS ?? 8);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 300) * 1000;
const SYSTEM = 'kyma-system';
const NAME = 'serverless-registry-config';
const REMOTE = 'serverless.kyma-project.io/remote-registry';
const CLUSTER = 'serverless.kyma-project.io/config';
const POD = 'bench-propagation';
const goalSeconds = NAMESPACES <= 1000 ? 10 : 60;

// ---- the fake API server, compiled from test/support with the project's TypeScript ----
const fakeDir = join(root, 'node_modules', '.cache', 'registry-config-webhook-bench');
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'bench', 'tsconfig.fake-apiserver.json')], { stdio: 'inherit' });
writeFileSync(join(fakeDir, 'package.json'), '{ "type": "module" }\n'); // ESM, like the sources
const { startFakeApiServer } = await import(new URL(`file://${join(fakeDir, 'test', 'support', 'fake-apiserver.js')}`).href);

function registrySecret(namespace, name, labels, password) {
  return sharedRegistrySecret({ namespace, name, labels, username: 'robot', password, registry: 'registry.example.com' });
}

const isSecretWrite = (r) => r.resource === 'secrets' && ['create', 'update', 'delete', 'patch'].includes(r.verb);
const fake = await startFakeApiServer({
  latencyMs: LATENCY_MS,
  // Secret writes fall into a priority level with a few seats and limitResponse Reject; lists,
  // watches and the Lease into others (as with the built-in FlowSchemas).
  priorityAndFairness: { seats: SEATS, where: isSecretWrite },
  recordRequests: false,
});

const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `ns-${String(i).padStart(5, '0')}`);
fake.createNamespace(SYSTEM);
for (const ns of namespaces) {
  fake.createNamespace(ns);
  // A namespace's own registry Secret (another name): 10,000 of them, plus the copies, make 20,000 in the resolver's index.
  fake.put(registrySecret(ns, 'team-registry', { [REMOTE]: 'config' }, `team-${ns}`));
}
const expectedCopies = NAMESPACES + 1; // and `default`

// ---- counting the copy writes as they are answered ----
let phase = { name: 'idle', accepted: new Map(), sent: 0, throttled: 0, lastAt: 0, other: 0 };
let done = () => undefined;
fake.onResponse = (r) => {
  if (!isSecretWrite(r)) return;
  phase.sent++;
  if (r.status === 429) {
    phase.throttled++;
    return;
  }
  const ok = (r.verb === 'create' && r.status === 201) || (r.verb === 'update' && r.status === 200);
  const name = r.verb === 'create' ? r.body?.metadata?.name : r.name;
  if (!ok || name !== NAME || r.namespace === SYSTEM) {
    if (r.verb !== 'patch' || r.status !== 200) phase.other++;
    return;
  }
  phase.accepted.set(r.namespace, (phase.accepted.get(r.namespace) ?? 0) + 1);
  phase.lastAt = performance.now();
  if (phase.accepted.size >= expectedCopies) done();
};
function runPhase(name, start) {
  phase = { name, accepted: new Map(), sent: 0, throttled: 0, lastAt: 0, other: 0 };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: ${phase.accepted.size} of ${expectedCopies} copies after ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    done = () => {
      clearTimeout(timer);
      resolve();
    };
    phase.cpu0 = serverCpuSeconds();
    phase.t0 = performance.now();
    start();
  }).then(async () => {
    const seconds = (phase.lastAt - phase.t0) / 1000;
    const cpu = phase.cpu0 === undefined ? undefined : serverCpuSeconds() - phase.cpu0;
    await settle(); // late duplicates would show up here
    const perNamespace = Math.max(...phase.accepted.values());
    const accepted = [...phase.accepted.values()].reduce((a, b) => a + b, 0);
    return { name, seconds, cpu, accepted, sent: phase.sent, throttled: phase.throttled, other: phase.other, perNamespace };
  });
}
async function settle() {
  let last = phase.sent;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    if (phase.sent === last) return;
    last = phase.sent;
  }
}

// ---- the server, in its own process ----
const work = mkdtempSync(join(tmpdir(), 'bench-propagation-'));
const kubeconfig = join(work, 'kubeconfig');
writeFileSync(
  kubeconfig,
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster: { server: fake.url, 'insecure-skip-tls-verify': true } }], // plain HTTP on 127.0.0.1
    users: [{ name: 'bench', user: { token: 'fake-admin-token' } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'bench' } }],
    'current-context': 'fake',
  }),
);
mkdirSync(join(work, 'certs'));
/** A free loopback port for the server's probe/metrics server (read at the end). */
const probePort = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
/** Samples of the server's /metrics, by name (labels summed). */
async function serverMetrics() {
  const text = await (await fetch(`http://127.0.0.1:${probePort}/metrics`)).text();
  const values = {};
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (match) values[match[1]] = (values[match[1]] ?? 0) + Number(match[3]);
  }
  return values;
}
const server = spawn(process.execPath, [join(root, 'dist', 'main.js')], {
  env: {
    PATH: process.env.PATH,
    KUBECONFIG: kubeconfig,
    HOME: work,
    PROPAGATION: 'on',
    RESOLVER_SOURCE: 'kubernetes',
    AUTH: 'off',
    CERT_DIR: join(work, 'certs'),
    HOST: '127.0.0.1',
    PORT: '0',
    PROBE_PORT: String(probePort),
    SYSTEM_NAMESPACE: SYSTEM,
    POD_NAMESPACE: SYSTEM,
    POD_NAME: POD,
    RESYNC_PERIOD: '30m', // no periodic pass inside the measurement
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? chartNodeOptions,
    SHUTDOWN_DELAY: '0s',
    ...(process.env.PROPAGATION_CONCURRENCY ? { PROPAGATION_CONCURRENCY: process.env.PROPAGATION_CONCURRENCY } : {}),
    ...(process.env.PROPAGATION_WRITES_PER_SECOND ? { PROPAGATION_WRITES_PER_SECOND: process.env.PROPAGATION_WRITES_PER_SECOND } : {}),
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
let exited = false;
server.once('exit', (code) => {
  exited = true;
  if (code !== 0 && code !== null) console.error(`server exited with ${code}`);
});

/** CPU seconds the server used so far (user + system), from /proc; undefined elsewhere. */
function serverCpuSeconds() {
  const stat = `/proc/${server.pid}/stat`;
  if (!existsSync(stat)) return undefined;
  const fields = readFileSync(stat, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

function peakRssBytes() {
  const status = `/proc/${server.pid}/status`;
  if (existsSync(status)) {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(status, 'utf8'));
    if (match) return Number(match[1]) * 1024;
  }
  return sampledPeak;
}
let sampledPeak = 0;
const sampler = existsSync('/proc')
  ? undefined
  : setInterval(() => {
      try {
        sampledPeak = Math.max(sampledPeak, Number(execFileSync('ps', ['-o', 'rss=', '-p', String(server.pid)], { encoding: 'utf8' }).trim()) * 1024);
      } catch {
        // the process is gone
      }
    }, 200);

const results = [];
try {
  // Ready to propagate: leading (the Lease is ours) and the caches listed (their watches are open).
  const leaseHeld = () => fake.get('leases', SYSTEM, 'registry-config-webhook-propagation')?.spec?.holderIdentity === POD;
  const started = performance.now();
  while (!leaseHeld()) {
    if (exited) throw new Error('the server exited during start-up');
    if (performance.now() - started > 60_000) throw new Error('the server did not take the Lease within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  await fake.waitForWatches({ resource: 'namespaces' }, 1, 60_000);
  await fake.waitForWatches({ resource: 'secrets' }, 3, 60_000);
  const startupRss = peakRssBytes();

  results.push(await runPhase('base created -> last copy', () => fake.put(registrySecret(SYSTEM, NAME, { [REMOTE]: 'config', [CLUSTER]: 'credentials' }, 'first-password'))));
  results.push(await runPhase('password changed -> last copy updated', () => fake.put(registrySecret(SYSTEM, NAME, { [REMOTE]: 'config', [CLUSTER]: 'credentials' }, 'second-password'))));

  const peak = peakRssBytes();
  const m = await serverMetrics();
  const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  console.log(`\npropagation: ${NAMESPACES} namespaces (+ default), ${NAMESPACES} other registry Secrets; fake API server: ${LATENCY_MS} ms per request, APF ${SEATS} seats for Secret writes (Reject)`);
  console.log(`server: PROPAGATION_CONCURRENCY=${process.env.PROPAGATION_CONCURRENCY ?? 'default'}, PROPAGATION_WRITES_PER_SECOND=${process.env.PROPAGATION_WRITES_PER_SECOND ?? 'default'}\n`);
  const rows = [['phase', 'time', 'server CPU', 'copies written', 'writes sent', '429s', 'max per namespace', 'goal']];
  for (const r of results) {
    rows.push([r.name, `${r.seconds.toFixed(1)} s`, r.cpu === undefined ? 'n/a' : `${r.cpu.toFixed(1)} s`, String(r.accepted), String(r.sent), String(r.throttled), String(r.perNamespace), `< ${goalSeconds} s, 1 per namespace`]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
  console.log(`\nserver peak RSS: ${mb(peak)} (after start-up and the first lists: ${mb(startupRss)}); goal < 200 MB`);
  console.log(`server at the end: RSS ${mb(m.process_resident_memory_bytes)}, V8 heap used ${mb(m.nodejs_heap_size_used_bytes)} of ${mb(m.nodejs_heap_size_total_bytes)}, external ${mb(m.nodejs_external_memory_bytes)}`);
  const writes = m.registry_config_webhook_propagation_write_duration_seconds_count;
  const meanMs = (1000 * m.registry_config_webhook_propagation_write_duration_seconds_sum) / writes;
  console.log(`server metrics: ${writes} writes answered (mean ${meanMs.toFixed(1)} ms), ${m.registry_config_webhook_propagation_throttled_total ?? 0} 429s seen, writes in flight now ${m.registry_config_webhook_propagation_write_concurrency}`);
  const met = results.every((r) => r.seconds < goalSeconds && r.perNamespace <= 1 && r.other === 0) && peak < 200 * 1024 * 1024;
  console.log(`server NODE_OPTIONS: ${process.env.BENCH_NODE_OPTIONS ?? chartNodeOptions}`);
  console.log(met ? 'goals met' : 'GOALS NOT MET');
  process.exitCode = met ? 0 : 1;
  if (results.some((r) => r.other > 0)) console.log(`unexpected write answers: ${results.map((r) => r.other).join(', ')}`);
} finally {
  if (sampler) clearInterval(sampler);
  if (!exited) {
    const gone = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
    if (!exited) server.kill('SIGKILL');
  }
  await fake.close();
  rmSync(work, { recursive: true, force: true });
}
process.exit(); // the fake's keep-alive sockets would hold the process open
