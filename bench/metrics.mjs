// The cost of metrics: the production server with METRICS=on versus METRICS=off, same run, same load.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmt, load, readCa, startChild, stopChild } from './lib.mjs';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const certDir = here('../certs');
const durationSeconds = Number(process.env.BENCH_SECONDS ?? 10);
const body = JSON.stringify(JSON.parse(readFileSync(here('../test/fixtures/admission-reviews/update-patch-stringdata-password.v1.json'), 'utf8')));
const path = '/defaulting/registry-config-secrets?timeout=10s';

export async function benchMetrics() {
  const on = await startChild(here('./webhook-server.mjs'), { CERT_DIR: certDir, METRICS: 'on' });
  const off = await startChild(here('./webhook-server.mjs'), { CERT_DIR: certDir, METRICS: 'off' });
  const ca = readCa(certDir);
  try {
    const run = (port, seconds = durationSeconds) => load({ url: `https://localhost:${port}${path}`, body, ca, durationSeconds: seconds });
    await run(off.port, 2);
    await run(on.port, 2);
    // Alternate twice to even out drift on a shared machine.
    const offRuns = [];
    const onRuns = [];
    for (let i = 0; i < 2; i++) {
      offRuns.push(await run(off.port, durationSeconds / 2));
      onRuns.push(await run(on.port, durationSeconds / 2));
    }
    const avg = (runs, key) => runs.reduce((s, r) => s + r[key], 0) / runs.length;
    const loss = 1 - avg(onRuns, 'rps') / avg(offRuns, 'rps');
    console.log(`\n## Metrics cost (same load, ${durationSeconds} s each)`);
    console.log('| metrics | req/s | p50 ms | p99 ms |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| off | ${fmt(avg(offRuns, 'rps'), 0)} | ${fmt(avg(offRuns, 'p50'))} | ${fmt(avg(offRuns, 'p99'))} |`);
    console.log(`| on | ${fmt(avg(onRuns, 'rps'), 0)} | ${fmt(avg(onRuns, 'p50'))} | ${fmt(avg(onRuns, 'p99'))} |`);
    console.log(`throughput loss with metrics ${fmt(loss * 100, 1)} % (goal < 5 %)`);
    return { loss };
  } finally {
    await stopChild(on.child);
    await stopChild(off.child);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchMetrics();
