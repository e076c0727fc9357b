// Resolver benchmark: an index with 10,000 namespaces and 20,000 registry Secrets.
// Measures memory (heap, RSS), build time, lookups per second, and event-to-watcher latency
// (in-process subscribers, and through the HTTP watch stream). Run after `npm run build`:
//   node bench/resolver.mjs            (re-runs itself with --expose-gc for stable memory figures)
import { spawnSync } from 'node:child_process';
import { request, Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { registrySecret as sharedRegistrySecret } from './registry-secret.mjs';

if (typeof globalThis.gc !== 'function') {
  const { status } = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(status ?? 1);
}

const dist = new URL('../dist/', import.meta.url);
const { RegistryIndex } = await import(new URL('resolver/registry-index.js', dist).href);
const { registerResolverRoutes } = await import(new URL('resolver/routes.js', dist).href);
const { default: Fastify } = await import('fastify');

const NAMESPACES = 10_000;
const SECRETS = 20_000;
const SYSTEM = 'kyma-system';
const REMOTE = 'serverless.kyma-project.io/remote-registry';
const CLUSTER = 'serverless.kyma-project.io/config';
const MANAGED_BY = 'serverless.kyma-project.io/managed-by';
const WATCHERS = 100;
const EVENTS = 1_000;

const b64 = (text) => Buffer.from(text).toString('base64');
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const settle = () => {
  for (let i = 0; i < 3; i++) globalThis.gc();
};
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (value) => `${value.toFixed(3)} ms`;
const rows = [];
const report = (metric, value, goal = '') => rows.push([metric, value, goal]);

function registrySecret(namespace, name, labels, rv, registry) {
  const metadata = { uid: `${namespace}-${name}-uid-0000-0000-000000000000`, resourceVersion: String(rv) };
  return sharedRegistrySecret({ namespace, name, labels, username: `user-${namespace}`, password: `pw-${namespace}-${rv}-xxxxxxxxxxxxxxxx`, registry, metadata });
}

const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `ns-${String(i).padStart(5, '0')}`);

function clusterWide(rv) {
  return registrySecret(SYSTEM, 'serverless-registry-config', { [REMOTE]: 'config', [CLUSTER]: 'credentials' }, rv, 'cluster.registry.example.com');
}

/** 10,000 namespace Secrets (every 10th opts out), 9,998 other labelled Secrets, the cluster-wide and the default one. */
function cluster() {
  const secrets = [];
  for (const [i, ns] of namespaces.entries()) {
    const labels = { [REMOTE]: 'config', ...(i % 10 === 0 ? { [MANAGED_BY]: 'user' } : {}) };
    secrets.push(registrySecret(ns, 'serverless-registry-config', labels, 1, `${ns}.registry.example.com`));
  }
  for (let i = 0; secrets.length < SECRETS - 2; i++) {
    const ns = namespaces[i % NAMESPACES];
    secrets.push(registrySecret(ns, `serverless-registry-config-old-${i}`, { [REMOTE]: 'config' }, 1, 'old.registry.example.com'));
  }
  secrets.push(clusterWide(1));
  const internal = { registryAddress: 'localhost:32137', serverAddress: 'internal:5000', isInternal: 'true', pushRegAddr: 'internal:5000', pullRegAddr: 'localhost:32137' };
  secrets.push({
    kind: 'Secret',
    metadata: { name: 'serverless-registry-config-default', namespace: SYSTEM, uid: 'default-uid', resourceVersion: '1' },
    data: Object.fromEntries(Object.entries(internal).map(([k, v]) => [k, b64(v)])),
  });
  return secrets;
}

// ---- memory and build --------------------------------------------------------------------------
settle();
const baseline = process.memoryUsage();
let secrets = cluster();
settle();
const withInput = process.memoryUsage();

let started = performance.now();
let incremental = new RegistryIndex({ systemNamespace: SYSTEM });
for (const secret of secrets) incremental.upsert(secret);
const incrementalMs = performance.now() - started;
incremental = undefined;

started = performance.now();
const index = new RegistryIndex({ systemNamespace: SYSTEM });
index.replaceAll(secrets);
const buildMs = performance.now() - started;

started = performance.now();
index.replaceAll(secrets); // a re-list with nothing new
const relistMs = performance.now() - started;

secrets = undefined; // a source does not keep Secrets: only the index remains
settle();
const afterBuild = process.memoryUsage();
const size = index.size();
report('index', `${size.secrets} relevant of ${SECRETS} Secrets, ${size.namespaces} namespace-scoped`);
report('input Secrets (transient, held by a source during a list)', mb(withInput.heapUsed - baseline.heapUsed));
report('index heap (after GC, input dropped)', mb(afterBuild.heapUsed - baseline.heapUsed));
report('heap used, whole process', mb(afterBuild.heapUsed));
report('RSS before any Secret (modules loaded)', mb(baseline.rss));
report('RSS after build', mb(afterBuild.rss), '< 150 MB');
report('build: replaceAll(20,000 Secrets)', ms(buildMs));
report('build: 20,000 upserts', ms(incrementalMs));
report('re-list with no change', ms(relistMs));

// ---- lookups -----------------------------------------------------------------------------------
{
  const probe = [...namespaces, ...Array.from({ length: 1000 }, (_, i) => `no-secret-${i}`)];
  let found = 0;
  for (let i = 0; i < 200_000; i++) if (index.resolve(probe[i % probe.length]).found) found++; // warm-up
  let count = 0;
  started = performance.now();
  const until = started + 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 10_000; i++) {
      if (index.resolve(probe[(count + i) % probe.length]).found) found++;
    }
    count += 10_000;
  }
  const elapsed = (performance.now() - started) / 1000;
  report('lookups per second (resolve, in-process)', `${Math.round(count / elapsed).toLocaleString('en-US')} /s`, '> 1,000,000 /s');
  if (found === 0) throw new Error('no lookup found anything');
}

// ---- event to in-process subscriber ------------------------------------------------------------
{
  const watched = namespaces.slice(1, WATCHERS + 1); // ns-00001..: no opt-out except every 10th
  const latencies = [];
  let sentAt = 0;
  const offs = watched.map((ns) => index.subscribe(ns, () => latencies.push(performance.now() - sentAt)));
  // Namespace events (the opt-out namespaces among the watched ones see them).
  for (let i = 0; i < EVENTS; i++) {
    const ns = watched[(i * 10) % watched.length];
    sentAt = performance.now();
    index.upsert(registrySecret(ns, 'serverless-registry-config', { [REMOTE]: 'config', [MANAGED_BY]: 'user' }, 100 + i, `${ns}.registry.example.com`));
  }
  const namespaceEvents = [...latencies].sort((a, b) => a - b);
  latencies.length = 0;
  // Cluster-wide events: every watched namespace without opt-out hears each one.
  for (let i = 0; i < 100; i++) {
    sentAt = performance.now();
    index.upsert(clusterWide(100 + i));
  }
  const clusterEvents = [...latencies].sort((a, b) => a - b);
  for (const off of offs) off();
  report(`event -> subscriber, namespace Secret (${namespaceEvents.length} deliveries)`, `p50 ${ms(percentile(namespaceEvents, 50))}, p99 ${ms(percentile(namespaceEvents, 99))}`, 'p99 < 1 s');
  report(`event -> subscriber, cluster-wide Secret (${clusterEvents.length} deliveries)`, `p50 ${ms(percentile(clusterEvents, 50))}, p99 ${ms(percentile(clusterEvents, 99))}`, 'p99 < 1 s');
}

// ---- event to HTTP watch stream ----------------------------------------------------------------
{
  const app = Fastify({ logger: false });
  registerResolverRoutes(app, { index, heartbeatMs: 30_000 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address();
  const agent = new Agent({ keepAlive: true, maxSockets: WATCHERS + 10 });
  const watched = namespaces.slice(1, WATCHERS + 1).filter((_, i) => (i + 1) % 10 !== 0);
  const pending = new Map(); // revision -> sent time
  const latencies = [];
  const streams = [];
  await Promise.all(
    watched.map(
      (ns) =>
        new Promise((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path: `/v1/namespaces/${ns}/registry-config?watch=true`, agent }, (res) => {
            let buffered = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
              buffered += chunk;
              let i;
              while ((i = buffered.indexOf('\n')) >= 0) {
                const event = JSON.parse(buffered.slice(0, i));
                buffered = buffered.slice(i + 1);
                if (event.type === 'ADDED') resolve();
                const sent = event.config && pending.get(event.config.revision);
                if (event.type === 'MODIFIED' && sent !== undefined) latencies.push(performance.now() - sent);
              }
            });
            res.on('error', () => {});
          });
          req.on('error', reject);
          req.end();
          streams.push(req);
        }),
    ),
  );
  // Namespace events one at a time, each in its own turn of the event loop, as watch chunks arrive.
  for (let i = 0; i < EVENTS; i++) {
    const ns = watched[i % watched.length];
    const secret = registrySecret(ns, 'serverless-registry-config', { [REMOTE]: 'config', [MANAGED_BY]: 'user' }, 5000 + i, `${ns}.registry.example.com`);
    pending.set(`${secret.metadata.uid}:${secret.metadata.resourceVersion}`, performance.now());
    index.upsert(secret);
    await new Promise((r) => setImmediate(r));
  }
  await waitUntil(() => latencies.length >= EVENTS);
  const namespaceEvents = [...latencies].sort((a, b) => a - b);
  latencies.length = 0;
  // Put the namespaces back under the cluster-wide Secret, then change it: one event fans out to all.
  for (const ns of watched) index.upsert(registrySecret(ns, 'serverless-registry-config', { [REMOTE]: 'config' }, 9000, `${ns}.registry.example.com`));
  await new Promise((r) => setTimeout(r, 50));
  latencies.length = 0;
  for (let i = 0; i < 20; i++) {
    const secret = clusterWide(10_000 + i);
    pending.set(`${secret.metadata.uid}:${secret.metadata.resourceVersion}`, performance.now());
    index.upsert(secret);
    await waitUntil(() => latencies.length >= (i + 1) * watched.length);
  }
  const clusterEvents = [...latencies].sort((a, b) => a - b);
  report(`event -> HTTP watcher, namespace Secret (${namespaceEvents.length} events, ${watched.length} streams)`, `p50 ${ms(percentile(namespaceEvents, 50))}, p99 ${ms(percentile(namespaceEvents, 99))}`, 'p99 < 1 s');
  report(`event -> HTTP watcher, cluster-wide Secret (20 events x ${watched.length} streams)`, `p50 ${ms(percentile(clusterEvents, 50))}, p99 ${ms(percentile(clusterEvents, 99))}`, 'p99 < 1 s');
  for (const req of streams) req.destroy();
  agent.destroy();
  await app.close();
  report('RSS at the end (index + HTTP server + watchers)', mb(process.memoryUsage().rss), '< 150 MB');
}

async function waitUntil(condition, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('benchmark: events did not arrive within 10 s');
    await new Promise((r) => setTimeout(r, 1));
  }
}

const width = Math.max(...rows.map((r) => r[0].length));
const valueWidth = Math.max(...rows.map((r) => r[1].length));
console.log(`resolver benchmark (Node ${process.version}, ${NAMESPACES.toLocaleString('en-US')} namespaces, ${SECRETS.toLocaleString('en-US')} Secrets)`);
for (const [metric, value, goal] of rows) console.log(`  ${metric.padEnd(width)}  ${value.padEnd(valueWidth)}  ${goal ? `goal ${goal}` : ''}`);
