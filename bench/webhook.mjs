// Admission throughput and latency: the production server versus a bare node:https baseline,
// in the same run, same certificate, same request (a realistic UPDATE review, compact JSON).
// Two reference floors run alongside: a minimal Fastify server, and the same with one production
// log line per review. They show how much of the gap is the stack itself and how much is ours.
import { fileURLToPath } from 'node:url';
import { admissionBench, alternate, fmt, loadTarget, readCa, realisticUpdateReview, startChild, stopChild } from './lib.mjs';

const { serverScript, bareScript, floorScript, certDir, path, secondsPerRun, rounds } = admissionBench;
const body = realisticUpdateReview();
const signed = (n) => `${n >= 0 ? '+' : ''}${fmt(n, 0)}`;

export async function benchWebhook() {
  // The production server first: it generates dev certificates in certs/ when there are none.
  const webhook = await startChild(serverScript, { CERT_DIR: certDir, METRICS: 'on' });
  const ca = readCa(certDir);
  const servers = [
    { name: 'bare node:https baseline', ...(await startChild(bareScript, { CERT_DIR: certDir })) },
    { name: 'floor: minimal Fastify', ...(await startChild(floorScript, { CERT_DIR: certDir, FLOOR_LOG: 'off' })) },
    { name: 'floor: minimal Fastify + one log line per review', ...(await startChild(floorScript, { CERT_DIR: certDir, FLOOR_LOG: 'on' })) },
    { name: 'registry-config-webhook', ...webhook },
  ];
  try {
    const target = (server) => loadTarget({ url: `https://localhost:${server.port}${path}`, body, ca, pid: server.child.pid });
    const results = await alternate(servers.map(target), { rounds, secondsPerRun });
    const [baseline, , floorWithLog, ours] = results;
    const rpsRatio = ours.rps / baseline.rps;
    const p99Ratio = ours.p99 / Math.max(baseline.p99, 0.001);
    console.log(`\n## Admission webhook (UPDATE review, ${body.length} bytes, 50 keep-alive connections, median of ${rounds} alternating ${secondsPerRun} s runs)`);
    console.log('| server | req/s | share of bare | p50 ms | p99 ms | server CPU µs/request |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [i, r] of results.entries()) {
      console.log(`| ${servers[i].name} | ${fmt(r.rps, 0)} | ${fmt(r.rps / baseline.rps, 2)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.cpuUsPerRequest, 0)} |`);
    }
    console.log(`throughput ratio ${fmt(rpsRatio, 2)} (goal >= 0.85), p99 ratio ${fmt(p99Ratio, 2)} (goal <= 1.5), server CPU per request ratio ${fmt(ours.cpuUsPerRequest / baseline.cpuUsPerRequest, 2)}`);
    console.log(`against the floor with logging: throughput ${fmt(ours.rps / floorWithLog.rps, 2)}, CPU per request ${signed(ours.cpuUsPerRequest - floorWithLog.cpuUsPerRequest)} µs`);
    return { baseline, ours, rpsRatio, p99Ratio };
  } finally {
    for (const server of servers) await stopChild(server.child);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchWebhook();
