import { parseConfig, type Config } from '../../src/config/config.js';
import type { Logger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { captureLogs } from './log-capture.js';
import { devCertificates } from './webhook.js';

/** The whole production server (config -> startServer) on ephemeral loopback ports, dev certificates. */
export async function startTestServer(env: Record<string, string> = {}, log?: Logger): Promise<{ server: RunningServer; config: Config; ca: string }> {
  const pair = await devCertificates();
  const config = parseConfig(
    [],
    { PORT: '0', PROBE_PORT: '0', HOST: '127.0.0.1', CERT_DIR: pair.dir, RESOLVER_SOURCE: 'off', KUBECONFIG: '/nonexistent', ...env },
    { hostname: 'test-pod', serviceAccountNamespace: undefined },
  );
  const server = await startServer(config, log ?? captureLogs('warn').log, { processMetrics: false });
  return { server, config, ca: pair.ca };
}
