import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { BuiltPackage } from './built-cli.js';
import { devCertificates } from './webhook.js';

const ROOT = join(import.meta.dirname, '..', '..');

const chartValues = () =>
  parseYaml(readFileSync(join(ROOT, 'charts', 'registry-config-webhook', 'values.yaml'), 'utf8')) as { config: { nodeOptions: string }; resources: { limits: { memory: string } } };

/** The heap flag the chart gives the container (`config.nodeOptions`), so a test meets the server's real heap limit. */
export function chartNodeOptions(): string {
  return chartValues().config.nodeOptions;
}

/** The chart's container memory limit in bytes: past it the pod is OOM-killed. */
export function chartMemoryLimit(): number {
  const quantity = chartValues().resources.limits.memory;
  const match = /^(\d+)(Ki|Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory limit ${quantity}`);
  return Number(match[1]) * { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 }[match[2] as 'Ki' | 'Mi' | 'Gi'];
}

export interface ServerProcess {
  child: ChildProcess;
  webhookPort: number;
  probePort: number;
  ca: string;
  /** Resident memory of the server process now, in bytes (what the container's memory limit counts). */
  rss(): number;
  /** The value of one sample of the server's /metrics, or undefined when it has none. */
  metric(name: string, labels: Record<string, string>): Promise<number | undefined>;
  /** True while the process runs. */
  alive(): boolean;
  stop(): Promise<void>;
}

/**
 * `node dist/main.js` (what `npm start` runs) from a built package, in its own process with the
 * chart's NODE_OPTIONS, on ephemeral loopback ports: memory measured here is the server's alone,
 * not the test's clients'.
 */
export async function startServerProcess(pkg: BuiltPackage, env: Record<string, string> = {}): Promise<ServerProcess> {
  const pair = await devCertificates();
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: pkg.dir,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: chartNodeOptions(),
      PORT: '0',
      PROBE_PORT: '0',
      HOST: '127.0.0.1',
      CERT_DIR: pair.dir,
      KUBECONFIG: '/nonexistent',
      RESOLVER_SOURCE: 'off',
      SHUTDOWN_DELAY: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const ports = await new Promise<{ webhookPort: number; probePort: number }>((resolve, reject) => {
    let served = false;
    const onData = (chunk: Buffer) => {
      // Only the tail is kept, for the error below: review log lines keep coming while a test runs.
      output = (output + chunk.toString('utf8')).slice(-65_536);
      if (served) return;
      const line = output.split('\n').slice(0, -1).find((l) => l.includes('"registry-config-webhook serving"'));
      if (!line) return;
      served = true;
      resolve(JSON.parse(line) as { webhookPort: number; probePort: number });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => reject(new Error(`server exited before it served:\n${output}`)));
  });
  const { pid } = child;
  if (pid === undefined) throw new Error('server process has no pid');
  return {
    child,
    ...ports,
    ca: pair.ca,
    rss() {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (!match) throw new Error(`no VmRSS for ${pid}`);
      return Number(match[1]) * 1024;
    },
    async metric(name, labels) {
      const text = await (await fetch(`http://127.0.0.1:${ports.probePort}/metrics`)).text();
      const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
      for (const line of text.split('\n')) {
        const match = /^([\w:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
        if (!match || match[1] !== name) continue;
        const present = (match[2] ?? '').split(',');
        if (wanted.every((w) => present.includes(w))) return Number(match[3]);
      }
      return undefined;
    },
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Resident memory of a process sampled until stopped: its peak, and the peak's growth over the value at the call. */
export function sampleRss(rss: () => number, everyMs = 20): { stop(): { peak: number; growth: number } } {
  const baseline = rss();
  let peak = baseline;
  const sample = () => {
    try {
      peak = Math.max(peak, rss());
    } catch {
      // the process is gone: its last sample stands, and the test's alive() check says why
    }
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { peak, growth: peak - baseline };
    },
  };
}
