// Token flood: a client without credentials sends GET /v1/namespaces/{ns}/registry-config with a
// different made-up bearer token on every request, from 200 connections, for 20 s, against the whole
// server (its own process: Kubernetes resolver, AUTH=on) and the project's fake API server (in this
// process, compiled from test/support). Meanwhile a legitimate client (a ServiceAccount allowed to get
// Secrets in its namespace; token-flood-client.mjs, its own process) asks every 200 ms on its own
// keep-alive connection.
// Goals: no TokenReview for a token that does not verify; >= 95 % of the legitimate calls answered
// (200/404) within 1 s. Run after `npm run build` (`npm run bench -- token-flood` does both).
//   TOKEN_FLOOD_SECONDS (20) and TOKEN_FLOOD_CONNECTIONS (200) change the attack.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cpuMs, fmt, startChild, stopChild } from './lib.mjs';

const SECONDS = Number(process.env.TOKEN_FLOOD_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.TOKEN_FLOOD_CONNECTIONS ?? 200);
const LEGIT_INTERVAL_MS = 200;
const LEGIT_DEADLINE_MS = 1000;
const SYSTEM = 'kyma-system';
const root = fileURLToPath(new URL('..', import.meta.url));

// The fake API server is TypeScript under test/support: compile it (and only it) next to node_modules.
const fakeOut = join(root, 'node_modules', '.cache', 'registry-config-webhook-bench', 'fake-apiserver');
const compiled = spawnSync(process.execPath, [
  join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--outDir', fakeOut, '--rootDir', join(root, 'test', 'support'),
  '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--skipLibCheck', '--types', 'node',
  '--strict', '--verbatimModuleSyntax', '--esModuleInterop', join(root, 'test', 'support', 'fake-apiserver.ts'),
], { stdio: 'inherit' });
if (compiled.status !== 0) throw new Error('compiling test/support/fake-apiserver.ts failed');
writeFileSync(join(fakeOut, 'package.json'), '{"type":"module"}\n');
const { startFakeApiServer } = await import(new URL(`file://${join(fakeOut, 'fake-apiserver.js')}`).href);

const fake = await startFakeApiServer({ namespaces: ['default', SYSTEM, 'team-a'] });
const b64 = (text) => Buffer.from(text).toString('base64');
fake.seed([
  {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'serverless-registry-config-default', namespace: SYSTEM },
    data: { registryAddress: b64('localhost:32137'), serverAddress: b64('internal:5000'), isInternal: b64('true'), pushRegAddr: b64('internal:5000'), pullRegAddr: b64('localhost:32137') },
  },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: 'team-a' } },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'secret-reader', namespace: 'team-a' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'reader', namespace: 'team-a' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secret-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'team-a' }],
  },
]);

const dir = mkdtempSync(join(tmpdir(), 'rcw-token-flood-'));
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(kubeconfig, fake.kubeConfig().exportConfig());
const certDir = join(dir, 'certs');
const server = await startChild(fileURLToPath(new URL('./token-flood-server.mjs', import.meta.url)), { KUBECONFIG: kubeconfig, CERT_DIR: certDir, SYSTEM_NAMESPACE: SYSTEM });
const ca = readFileSync(join(certDir, 'ca.crt'), 'utf8');
const url = `https://127.0.0.1:${server.port}/v1/namespaces/team-a/registry-config`;

// ---- the attack: a new token on every request ----
const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const realKid = fake.serviceAccountIssuer.keyId;
const claims = part({ iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:team-a:reader', aud: ['https://kubernetes.default.svc.cluster.local'], exp: 4102444800 });
let made = 0;
/** A third random strings, a third JWTs with the cluster's real kid and a random signature, a third invented kids. */
function attackToken() {
  const n = made++;
  if (n % 3 === 0) return randomBytes(32).toString('base64url');
  const kid = n % 3 === 1 ? realKid : randomBytes(16).toString('base64url');
  return `${part({ alg: 'RS256', kid })}.${claims}.${randomBytes(256).toString('base64url')}`;
}

// ---- the legitimate client (its own process) ----
const legitToken = fake.issueServiceAccountToken('team-a', 'reader', { expirationSeconds: 7200 });
const legitClient = await startChild(fileURLToPath(new URL('./token-flood-client.mjs', import.meta.url)), { URL: url, CA: ca, TOKEN: legitToken, INTERVAL_MS: String(LEGIT_INTERVAL_MS) });
fake.clearRequests(); // the warm-up review is not counted

const cpuBefore = cpuMs(server.child.pid);
legitClient.child.send('start');
const attack = await autocannon({
  url,
  method: 'GET',
  connections: CONNECTIONS,
  duration: SECONDS,
  tls: { ca },
  requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${attackToken()}` } }) }],
});
const cpuAfter = cpuMs(server.child.pid);
const legit = await new Promise((resolve) => {
  legitClient.child.once('message', (message) => resolve(message.results));
  legitClient.child.send('stop');
});

// ---- what the API server saw ----
const reviews = fake.requests.filter((r) => r.resource === 'tokenreviews');
const forAttack = reviews.filter((r) => r.body?.spec?.token !== legitToken).length;
const keySetReads = fake.count({ path: '/openid/v1/jwks' });
const metrics = await (await fetch(`http://127.0.0.1:${server.probePort}/metrics`)).text();
const localRejections = [...metrics.matchAll(/^registry_config_webhook_auth_local_rejections_total\{reason="([^"]+)"\} (\d+)/gm)].map((m) => `${m[1]} ${m[2]}`).join(', ');

await stopChild(server.child);
await fake.close();
rmSync(dir, { recursive: true, force: true });

const onTime = legit.filter((r) => (r.status === 200 || r.status === 404) && r.ms <= LEGIT_DEADLINE_MS).length;
const share = legit.length === 0 ? 0 : (onTime / legit.length) * 100;
const sorted = legit.map((r) => r.ms).sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const statuses = Object.entries(attack.statusCodeStats ?? {}).map(([code, s]) => `${code}: ${s.count}`).join(', ');
const rows = [
  ['attack: requests answered', `${attack.requests.total} in ${SECONDS} s from ${CONNECTIONS} connections (${fmt(attack.requests.average, 0)} req/s; ${statuses}; ${attack.errors} errors)`, ''],
  ['TokenReviews for attack tokens', String(forAttack), 'goal: 0'],
  ['TokenReviews in all (legitimate client incl., cached 10 s)', String(reviews.length), ''],
  ['key-set reads during the attack (invented kids)', String(keySetReads), 'at most 1 per 10 s'],
  ['local rejections (server metric)', localRejections || 'none', ''],
  ['legitimate client: answered within 1 s', `${onTime} / ${legit.length} (${fmt(share)} %)`, 'goal: >= 95 %'],
  ['legitimate client: latency p50 / p99 / max', `${fmt(pct(50))} / ${fmt(pct(99))} / ${fmt(sorted.at(-1) ?? NaN)} ms`, ''],
  ['server CPU during the attack', cpuBefore === undefined || cpuAfter === undefined ? 'n/a' : `${fmt((cpuAfter - cpuBefore) / 1000 / SECONDS * 100, 0)} % of a core`, ''],
];
console.log('\nToken flood against the resolver API (AUTH=on, fake API server)');
for (const [metric, value, goal] of rows) console.log(`  ${metric.padEnd(58)} ${value}${goal ? `   (${goal})` : ''}`);
const met = forAttack === 0 && share >= 95;
console.log(`  goals ${met ? 'met' : 'NOT met'}`);
process.exit(met ? 0 : 1);
