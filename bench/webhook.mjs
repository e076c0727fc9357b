// Admission cost per review: the production server versus a bare node:https baseline, in the same
// run, same certificate, same request (a realistic UPDATE review, compact JSON). Two reference
// floors run alongside (a minimal Fastify server, and the same with one production log line per
// review), and our server with metrics off, for the metrics cost. Then an open-loop run at half
// the bare server's measured capacity (the latency the API server sees), and RSS after the load.
// Every figure is printed with its goal (issue 15).
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { admissionBench, alternate, fmt, loadTarget, openLoopTarget, readCa, realisticUpdateReview, rssMb, startChild, stopChild } from './lib.mjs';

const { serverScript, bareScript, floorScript, certDir, path, secondsPerRun, rounds } = admissionBench;
const body = realisticUpdateReview();
const signed = (n) => `${n >= 0 ? '+' : ''}${fmt(n, 0)}`;
const verdict = (met) => (met ? 'PASS' : 'MISS');

const load = () => loadavg().map((n) => fmt(n, 2)).join(' ');

export async function benchWebhook() {
  // Other work on the machine shows in every figure, the open-loop p99 most: say how busy it was.
  const loadBefore = load();
  // The production server first: it generates dev certificates in certs/ when there are none.
  const webhook = await startChild(serverScript, { CERT_DIR: certDir, METRICS: 'on' });
  const ca = readCa(certDir);
  const servers = [
    { name: 'bare node:https baseline', ...(await startChild(bareScript, { CERT_DIR: certDir })) },
    { name: 'floor: minimal Fastify', ...(await startChild(floorScript, { CERT_DIR: certDir, FLOOR_LOG: 'off' })) },
    { name: 'floor: minimal Fastify + one log line per review', ...(await startChild(floorScript, { CERT_DIR: certDir, FLOOR_LOG: 'on' })) },
    { name: 'registry-config-webhook', ...webhook },
    { name: 'registry-config-webhook, METRICS=off', ...(await startChild(serverScript, { CERT_DIR: certDir, METRICS: 'off' })) },
  ];
  // BENCH_VARIANT=NAME=value[,NAME=value]: one more production server with that environment, for
  // an A/B comparison of a change in the same run (e.g. MAX_EVENT_LOOP_DELAY=0, or
  // NODE_OPTIONS=--max-semi-space-size=8: a value is everything after the first '=').
  const variant = process.env.BENCH_VARIANT
    ? Object.fromEntries(process.env.BENCH_VARIANT.split(',').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]))
    : undefined;
  if (variant) servers.push({ name: `registry-config-webhook, ${process.env.BENCH_VARIANT}`, ...(await startChild(serverScript, { CERT_DIR: certDir, METRICS: 'on', ...variant })) });
  try {
    const url = (server) => `https://localhost:${server.port}${path}`;
    const closed = await alternate(servers.map((server) => loadTarget({ url: url(server), body, ca, pid: server.child.pid })), { rounds, secondsPerRun });
    const [baseline, , floorWithLog, ours, oursWithoutMetrics] = closed;
    console.log(`\n## Admission webhook, closed loop (UPDATE review, ${body.length} bytes, 50 keep-alive connections, median of ${rounds} alternating ${secondsPerRun} s runs)`);
    console.log('| server | req/s | share of bare | p50 ms | p99 ms | server CPU µs/review |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [i, r] of closed.entries()) {
      console.log(`| ${servers[i].name} | ${fmt(r.rps, 0)} | ${fmt(r.rps / baseline.rps, 2)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.cpuUsPerRequest, 0)} |`);
    }
    console.log(`against the floor with logging: throughput ${fmt(ours.rps / floorWithLog.rps, 2)}, CPU per review ${signed(ours.cpuUsPerRequest - floorWithLog.cpuUsPerRequest)} µs`);

    // Open loop at half of what the bare server just managed: bare and ours only.
    const rate = Math.round(baseline.rps / 2);
    const [bareServer, , , oursServer] = servers;
    const openServers = [bareServer, oursServer, ...servers.slice(5)];
    const [openBare, openOurs, ...openVariants] = await alternate(
      openServers.map((server) => openLoopTarget({ url: url(server), body, ca, pid: server.child.pid, rate })),
      { rounds, secondsPerRun },
    );
    console.log(`\n## Open loop at ${rate} reviews/s (half the bare server's closed-loop throughput), latency from when each request was due`);
    console.log('| server | req/s sent | p50 ms | p99 ms | server CPU µs/review |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    console.log(`| ${bareServer.name} | ${fmt(openBare.rps, 0)} | ${fmt(openBare.p50, 2)} | ${fmt(openBare.p99, 2)} | ${fmt(openBare.cpuUsPerRequest, 0)} |`);
    for (const [i, r] of [openOurs, ...openVariants].entries()) {
      console.log(`| ${openServers[i + 1].name} | ${fmt(r.rps, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.cpuUsPerRequest, 0)} |`);
    }

    // After all that load: the process's resident memory (Node itself is most of it).
    const rss = servers.map((server) => rssMb(server.child.pid));
    console.log(`\n## RSS after the load (MB): ${servers.map((server, i) => `${server.name} ${fmt(rss[i], 1)}`).join('; ')}`);

    const cpuRatio = ours.cpuUsPerRequest / baseline.cpuUsPerRequest;
    const rpsRatio = ours.rps / baseline.rps;
    const p99Ratio = ours.p99 / Math.max(baseline.p99, 0.001);
    const openP99Extra = openOurs.p99 - openBare.p99;
    const rssRatio = rss[3] / rss[0];
    const metricsLoss = 1 - ours.rps / oursWithoutMetrics.rps;
    const goals = [
      ['server CPU per review, ours / bare', `${fmt(ours.cpuUsPerRequest, 0)} / ${fmt(baseline.cpuUsPerRequest, 0)} µs = ${fmt(cpuRatio, 2)}x`, '<= 1.35x', cpuRatio <= 1.35],
      ['throughput (closed loop), ours / bare', `${fmt(rpsRatio, 2)}x`, '>= 0.80x', rpsRatio >= 0.8],
      ['p99 (closed loop), ours / bare', `${fmt(ours.p99)} / ${fmt(baseline.p99)} ms = ${fmt(p99Ratio, 2)}x`, '<= 1.5x', p99Ratio <= 1.5],
      [`p99 (open loop, ${rate}/s), ours - bare`, `${fmt(openOurs.p99, 2)} - ${fmt(openBare.p99, 2)} = ${signed(openP99Extra * 1000)} µs`, '<= +2 ms', openP99Extra <= 2],
      ['RSS after the load, ours / bare', `${fmt(rss[3], 1)} / ${fmt(rss[0], 1)} MB = ${fmt(rssRatio, 2)}x`, '<= 1.1x', rssRatio <= 1.1],
      ['metrics cost (throughput lost, METRICS=on vs off)', `${fmt(metricsLoss * 100, 1)} % (CPU ${signed(ours.cpuUsPerRequest - oursWithoutMetrics.cpuUsPerRequest)} µs/review)`, '< 5 %', metricsLoss < 0.05],
    ];
    console.log(`\n## Goals (issue 15); load average (1, 5, 15 min) before ${loadBefore}, after ${load()}`);
    console.log('| figure | measured | goal | |');
    console.log('| --- | ---: | ---: | --- |');
    for (const [name, measured, goal, met] of goals) console.log(`| ${name} | ${measured} | ${goal} | ${verdict(met)} |`);
    return { closed, open: { bare: openBare, ours: openOurs, rate }, rss, goals };
  } finally {
    for (const server of servers) await stopChild(server.child);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchWebhook();
