#!/usr/bin/env node
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { helpText, parseConfig } from './config/config.js';
import { OptionError } from './config/options.js';
import { createLogger } from './logging/logger.js';
import { startServer } from './server.js';

const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function serviceAccountNamespace(): string | undefined {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  let config;
  try {
    config = parseConfig(argv, process.env, { hostname: hostname(), serviceAccountNamespace: serviceAccountNamespace() });
  } catch (err) {
    if (err instanceof OptionError) {
      process.stderr.write(`registry-config-webhook: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  // A bug that escapes every handler: say what (message only; never the error object, which may
  // carry a request) and exit, so the kubelet restarts a clean process.
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.on(event, (err: unknown) => {
      log.fatal({ event, error: err instanceof Error ? err.message : String(err) }, 'unexpected error; exiting');
      process.exit(1);
    });
  }
  let server;
  try {
    server = await startServer(config, log);
  } catch (err) {
    log.fatal({ error: (err as Error).message }, 'start-up failed');
    process.exit(1);
  }
  let signals = 0;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      signals++;
      if (signals > 1) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      void server.shutdown(signal).then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ error: (err as Error).message }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

void main(process.argv.slice(2));
