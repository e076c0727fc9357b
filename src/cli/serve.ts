import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { type Config, OPTIONS, parseConfig } from '../config/config.js';
import { OptionError, type OptionSpec } from '../config/options.js';
import { createLogger } from '../logging/logger.js';
import { startServer } from '../server.js';
import type { Command } from './command.js';
import { type FlagSpec, HELP_FLAG, parseCommandLine, UsageError } from './flags.js';

const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The server's flags are the option table's: each shown with its environment variable as the value. */
const FLAGS: readonly FlagSpec[] = [
  ...(Object.values(OPTIONS) as OptionSpec<unknown>[]).map(
    (spec): FlagSpec => ({
      name: spec.flag.replace(/^--/, ''),
      type: 'string',
      value: spec.env,
      help: spec.help,
      ...(spec.defaultText !== undefined ? { defaultText: spec.defaultText } : {}),
    }),
  ),
  HELP_FLAG,
];

/** `registry-config-webhook serve` (and `node dist/main.js`, the image's entrypoint): the server. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'start the webhook and resolver server',
  usage: '[flags]',
  description: [
    'Starts the HTTPS server (admission reviews, resolver API) and the plain-HTTP probe server',
    '(/healthz, /readyz, /metrics) and runs until SIGTERM or SIGINT. Every flag has an environment',
    'variable twin, shown as its value; a flag wins over its variable. Without a cluster connection',
    'and without certificates in --cert-dir, development certificates are generated there.',
  ].join('\n'),
  flags: FLAGS,
  footer: 'Exit codes: 0 after a clean shutdown, 1 start-up failure, 2 bad flag or environment value.',
  async run(argv) {
    const parsed = parseCommandLine(argv, FLAGS);
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
    let config: Config;
    try {
      config = parseConfig(argv, process.env, { hostname: hostname(), serviceAccountNamespace: serviceAccountNamespace() });
    } catch (err) {
      // A bad environment variable is as much a usage error as a bad flag.
      if (err instanceof OptionError) throw new UsageError(err.message);
      throw err;
    }
    await serve(config);
    // The server runs on; signals end the process with its own exit code.
    return 0;
  },
};

function serviceAccountNamespace(): string | undefined {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Starts the server and wires process signals and last-resort error handlers to its shutdown. */
async function serve(config: Config): Promise<void> {
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
