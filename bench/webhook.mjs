// Admission throughput and latency: the production server versus a bare node:https baseline,
// in the same run, same certificate, same request (a realistic UPDATE review, compact JSON).
import { fileURLToPath } from 'node:url';
import { admissionBench, alternate, fmt, loadTarget, readCa, realisticUpdateReview, startChild, stopChild } from './lib.mjs';

const { serverScript, bareScript, certDir, path, secondsPerRun, rounds } = admissionBench;
const body = realisticUpdateReview();

export async function benchWebhook() {
  // The production server first: it generates dev certificates in certs/ when there are none.
  const webhook = await startChild(serverScript, { CERT_DIR: certDir, METRICS: 'on' });
  const ca = readCa(certDir);
  const bare = await startChild(bareScript, { CERT_DIR: certDir });
  try {
    const target = (server) => loadTarget({ url: `https://localhost:${server.port}${path}`, body, ca, pid: server.child.pid });
    const [baseline, ours] = await alternate([target(bare), target(webhook)], { rounds, secondsPerRun });
    const rpsRatio = ours.rps / baseline.rps;
    const p99Ratio = ours.p99 / Math.max(baseline.p99, 0.001);
    console.log(`\n## Admission webhook (UPDATE review, ${body.length} bytes, 50 keep-alive connections, median of ${rounds} alternating ${secondsPerRun} s runs)`);
    console.log('| server | req/s | p50 ms | p99 ms | server CPU µs/request |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    console.log(`| bare node:https baseline | ${fmt(baseline.rps, 0)} | ${fmt(baseline.p50)} | ${fmt(baseline.p99)} | ${fmt(baseline.cpuUsPerRequest, 0)} |`);
    console.log(`| registry-config-webhook | ${fmt(ours.rps, 0)} | ${fmt(ours.p50)} | ${fmt(ours.p99)} | ${fmt(ours.cpuUsPerRequest, 0)} |`);
    console.log(`throughput ratio ${fmt(rpsRatio, 2)} (goal >= 0.85), p99 ratio ${fmt(p99Ratio, 2)} (goal <= 1.5), server CPU per request ratio ${fmt(ours.cpuUsPerRequest / baseline.cpuUsPerRequest, 2)}`);
    return { baseline, ours, rpsRatio, p99Ratio };
  } finally {
    await stopChild(webhook.child);
    await stopChild(bare.child);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchWebhook();
