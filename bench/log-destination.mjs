// The cost of one production log line by destination: pino's default asynchronous stdout
// (SonicBoom, utf8 mode) against ours (src/logging/stdout-destination.ts, SonicBoom in buffer
// mode), with a sink that discards as the floor. Lines come in bursts, as reviews do under load,
// with a turn of the event loop between bursts so that writes complete. Output goes to /dev/null.
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loggerOptions } from '../dist/logging/logger.js';
import { stdoutDestination } from '../dist/logging/stdout-destination.js';
import { fmt } from './lib.mjs';

const line = { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', namespace: 'default', name: 'serverless-registry-config', kind: 'Secret', operation: 'UPDATE', dryRun: false, allowed: true, code: 200, patched: true, warnings: 0, latencyMs: 0.123 };

async function measure(destination, burst, rounds) {
  const log = pino(loggerOptions('info'), destination);
  const before = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < burst; i++) log.info(line, 'admission review');
    await new Promise((resolve) => setImmediate(resolve));
  }
  const cpu = process.cpuUsage(before);
  return ((cpu.user + cpu.system) * 1000) / (burst * rounds); // ns per line, all threads
}

export async function benchLogDestination() {
  const devNull = openSync('/dev/null', 'w');
  const destinations = [
    ['pino.destination (utf8), the default', () => pino.destination({ dest: devNull, sync: false })],
    ['stdoutDestination (buffer mode), ours', () => stdoutDestination(devNull)],
    ['a sink that discards (floor)', () => ({ write() {} })],
  ];
  console.log('\n## Log line cost by destination (process CPU ns per line, median of 3 alternating runs)');
  console.log('| destination | burst 5 | burst 50 |');
  console.log('| --- | ---: | ---: |');
  const results = [];
  for (const [name, make] of destinations) results.push({ name, make, runs: { 5: [], 50: [] } });
  for (let round = 0; round < 3; round++) {
    for (const burst of [5, 50]) for (const r of results) r.runs[burst].push(await measure(r.make(), burst, 200_000 / burst));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[1];
  for (const r of results) console.log(`| ${r.name} | ${fmt(median(r.runs[5]), 0)} | ${fmt(median(r.runs[50]), 0)} |`);
  const [utf8, ours] = results;
  console.log(`ours / default: ${fmt(median(ours.runs[5]) / median(utf8.runs[5]), 2)} (burst 5), ${fmt(median(ours.runs[50]) / median(utf8.runs[50]), 2)} (burst 50)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchLogDestination();
