// The production server with the Kubernetes resolver and resolver API auth on (AUTH=on), pointed by
// KUBECONFIG at the benchmark's fake API server. Logs at warn, to this process's stderr.
import { parseConfig } from '../dist/config/config.js';
import { createLogger } from '../dist/logging/logger.js';
import { startServer } from '../dist/server.js';

const config = parseConfig(
  [],
  { ...process.env, PORT: '0', PROBE_PORT: '0', HOST: '127.0.0.1', RESOLVER_SOURCE: 'kubernetes', AUTH: 'on', PROPAGATION: 'off', SHUTDOWN_DELAY: '0' },
  { hostname: 'bench', serviceAccountNamespace: undefined },
);
const log = createLogger({ level: 'warn', format: 'json', destination: process.stderr });
const server = await startServer(config, log);
process.send?.({ port: server.webhookPort, probePort: server.probePort });
process.on('SIGTERM', () => void server.shutdown('bench done').then(() => process.exit(0)));
