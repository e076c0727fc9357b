// The production server, started the way main.ts starts it, with production logging (JSON, info,
// one line per review) written to this process's stdout, which the runner discards.
import { parseConfig } from '../dist/config/config.js';
import { createLogger } from '../dist/logging/logger.js';
import { startServer } from '../dist/server.js';

const config = parseConfig([], { ...process.env, PORT: '0', PROBE_PORT: '0', HOST: '127.0.0.1', RESOLVER_SOURCE: 'off', SHUTDOWN_DELAY: '0' }, { hostname: 'bench', serviceAccountNamespace: undefined });
const log = createLogger({ level: 'info', format: 'json' });
const server = await startServer(config, log);
process.send?.({ port: server.webhookPort, probePort: server.probePort });
process.on('SIGTERM', () => void server.shutdown('bench done').then(() => process.exit(0)));
