import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { fileURLToPath } from 'node:url';
import { openLoop } from './open-loop.mjs';

/** Starts a bench server script in its own process and resolves with what it reports (its port). */
export function startChild(script, env = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', (message) => resolve({ child, ...message }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
}

export function stopChild(child) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** autocannon with keep-alive connections against an HTTPS URL; returns req/s and latency percentiles in ms. */
export async function load({ url, body, connections = 50, durationSeconds = 10, ca }) {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: durationSeconds,
    headers: { 'content-type': 'application/json', 'user-agent': 'kube-apiserver-admission', accept: 'application/json, */*' },
    body,
    tls: { ca },
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, total: result.requests.total };
}

export function readCa(certDir) {
  return readFileSync(`${certDir}/ca.crt`, 'utf8');
}

export const fmt = (n, digits = 1) => Number(n).toFixed(digits);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/**
 * Alternates runs against several targets (A, B, A, B, ...) and reports each target's median:
 * on a shared 2-core machine, load from elsewhere drifts within seconds, and alternating spreads
 * that drift over both sides instead of penalising whichever ran second.
 */
export async function alternate(targets, { rounds = 3, secondsPerRun = 5 } = {}) {
  const runs = targets.map(() => []);
  for (const target of targets) await target.run(2); // warm-up: JIT, TLS sessions
  for (let round = 0; round < rounds; round++) {
    for (const [i, target] of targets.entries()) runs[i].push(await target.run(secondsPerRun));
  }
  return runs.map((list) => ({
    rps: median(list.map((r) => r.rps)),
    p50: median(list.map((r) => r.p50)),
    p99: median(list.map((r) => r.p99)),
    cpuUsPerRequest: median(list.map((r) => r.cpuUsPerRequest ?? NaN)),
    runs: list.length,
  }));
}

/**
 * A realistic UPDATE review (~3.5 KB compact): the recorded `kubectl patch` UPDATE, with the
 * `kubectl.kubernetes.io/last-applied-configuration` annotation that client-side `kubectl apply`
 * leaves on both objects (made up here, fake data: the recording has none).
 */
export function realisticUpdateReview() {
  const file = fileURLToPath(new URL('../test/fixtures/admission-reviews/update-patch-stringdata-password.v1.json', import.meta.url));
  const review = JSON.parse(readFileSync(file, 'utf8'));
  const lastApplied = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { annotations: {}, labels: { 'serverless.kyma-project.io/remote-registry': 'config' }, name: 'serverless-registry-config', namespace: 'default' },
    stringData: { password: 's3cr3t-pass', registryAddress: 'registry.example.com:5000/kyma', serverAddress: 'registry.example.com:5000', username: 'admin' },
    type: 'kubernetes.io/dockerconfigjson',
  });
  for (const object of [review.request.object, review.request.oldObject]) {
    object.metadata.annotations = { ...object.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': `${lastApplied}\n` };
  }
  return JSON.stringify(review);
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux). Server CPU per
 * request does not depend on how much CPU the load generator on the same machine takes.
 */
export function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
  } catch {
    return undefined;
  }
}

/** A load target that also reports the server's CPU microseconds per request. */
export function loadTarget({ url, body, ca, pid }) {
  return {
    async run(durationSeconds) {
      const before = cpuMs(pid);
      const result = await load({ url, body, ca, durationSeconds });
      const after = cpuMs(pid);
      return { ...result, cpuUsPerRequest: before === undefined || after === undefined ? NaN : ((after - before) * 1000) / result.total };
    },
  };
}

/** An open-loop target: a fixed rate of requests per second, latency measured from when each was due. */
export function openLoopTarget({ url, body, ca, pid, rate }) {
  return {
    async run(durationSeconds) {
      const before = cpuMs(pid);
      const result = await openLoop({ url, body, ca, rate, durationSeconds });
      const after = cpuMs(pid);
      return { ...result, cpuUsPerRequest: before === undefined || after === undefined ? NaN : ((after - before) * 1000) / result.total };
    },
  };
}

/** Resident set size of a process in MB, from /proc (Linux). */
export function rssMb(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** What the admission benchmarks share: where the servers are, what they are sent, how long. */
export const admissionBench = {
  serverScript: fileURLToPath(new URL('./webhook-server.mjs', import.meta.url)),
  bareScript: fileURLToPath(new URL('./bare-server.mjs', import.meta.url)),
  floorScript: fileURLToPath(new URL('./fastify-floor-server.mjs', import.meta.url)),
  certDir: fileURLToPath(new URL('../certs', import.meta.url)),
  path: '/defaulting/registry-config-secrets?timeout=10s',
  secondsPerRun: Number(process.env.BENCH_SECONDS ?? 5),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
};
