// The cost of metrics: the production server with METRICS=on versus METRICS=off, same run, same load.
import { fileURLToPath } from 'node:url';
import { admissionBench, alternate, fmt, loadTarget, readCa, realisticUpdateReview, startChild, stopChild } from './lib.mjs';

const { serverScript, certDir, path, secondsPerRun, rounds } = admissionBench;
const body = realisticUpdateReview();

export async function benchMetrics() {
  const on = await startChild(serverScript, { CERT_DIR: certDir, METRICS: 'on' });
  const off = await startChild(serverScript, { CERT_DIR: certDir, METRICS: 'off' });
  const ca = readCa(certDir);
  try {
    const target = (server) => loadTarget({ url: `https://localhost:${server.port}${path}`, body, ca, pid: server.child.pid });
    const [withoutMetrics, withMetrics] = await alternate([target(off), target(on)], { rounds, secondsPerRun });
    const loss = 1 - withMetrics.rps / withoutMetrics.rps;
    console.log(`\n## Metrics cost (same load, median of ${rounds} alternating ${secondsPerRun} s runs)`);
    console.log('| metrics | req/s | p50 ms | p99 ms | server CPU µs/request |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    console.log(`| off | ${fmt(withoutMetrics.rps, 0)} | ${fmt(withoutMetrics.p50)} | ${fmt(withoutMetrics.p99)} | ${fmt(withoutMetrics.cpuUsPerRequest, 0)} |`);
    console.log(`| on | ${fmt(withMetrics.rps, 0)} | ${fmt(withMetrics.p50)} | ${fmt(withMetrics.p99)} | ${fmt(withMetrics.cpuUsPerRequest, 0)} |`);
    console.log(`throughput loss with metrics ${fmt(loss * 100, 1)} % (goal < 5 %)`);
    return { loss };
  } finally {
    await stopChild(on.child);
    await stopChild(off.child);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchMetrics();
