import { certsCommand } from './certs.js';
import { type Command, type CommandIo, commandHelp, PROGRAM, usageFailure } from './command.js';
import { booleanFlag, type FlagSpec, HELP_FLAG, parseCommandLine, UsageError } from './flags.js';
import { reviewCommand } from './review-command.js';
import { serveCommand } from './serve.js';
import { versionCommand } from './version.js';

export const EXIT_USAGE = 2;

export const COMMANDS: readonly Command[] = [serveCommand, reviewCommand, certsCommand, versionCommand];

/** Flags before any command. */
const TOP_FLAGS: readonly FlagSpec[] = [{ name: 'version', type: 'boolean', help: 'print the version and exit' }, HELP_FLAG];

export function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 'help'.length);
  return [
    `${PROGRAM}: Kubernetes mutating admission webhook and resolver for serverless registry-config Secrets`,
    '',
    `Usage: ${PROGRAM} <command> [flags]`,
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`),
    `  ${'help'.padEnd(width)}   show help for a command`,
    '',
    'Flags:',
    `      --version   ${TOP_FLAGS[0]?.help}`,
    `  -h, --help      show this help and exit`,
    '',
    `Run '${PROGRAM} <command> --help' for a command's flags.`,
    '',
  ].join('\n');
}

/**
 * The command line as kubectl and helm read theirs: a command, then its flags. Returns the exit
 * code; a bad command line prints one line of reason and a hint, and is 2.
 */
export async function runCli(argv: readonly string[], io: CommandIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stdout(topLevelHelp());
    return 0;
  }
  if (first.startsWith('-')) return runTopLevelFlags(argv, io);
  if (first === 'help') return runHelp(rest, io);
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    io.stderr(usageFailure(undefined, `unknown command "${first}"`));
    return EXIT_USAGE;
  }
  try {
    if (booleanFlag(parseCommandLine(rest, command.flags), 'help')) {
      io.stdout(commandHelp(command));
      return 0;
    }
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(usageFailure(command.name, err.message));
      return EXIT_USAGE;
    }
    throw err;
  }
}

function runTopLevelFlags(argv: readonly string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv, TOP_FLAGS);
    if (parsed.positionals.length > 0) throw new UsageError(`flags go after the command: ${PROGRAM} ${parsed.positionals[0]} ${argv[0]}`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(usageFailure(undefined, err.message));
    return Promise.resolve(EXIT_USAGE);
  }
  if (booleanFlag(parsed, 'version')) return versionCommand.run([], io);
  io.stdout(topLevelHelp());
  return Promise.resolve(0);
}

function runHelp(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...extra] = argv;
  if (name === undefined) {
    io.stdout(topLevelHelp());
    return Promise.resolve(0);
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command || extra.length > 0) {
    io.stderr(usageFailure('help', command ? `unexpected argument "${extra[0]}"` : `unknown command "${name}"`));
    return Promise.resolve(EXIT_USAGE);
  }
  io.stdout(commandHelp(command));
  return Promise.resolve(0);
}
