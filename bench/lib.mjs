import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

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
