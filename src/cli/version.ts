import { readFileSync } from 'node:fs';
import { type Command, PROGRAM } from './command.js';
import { type FlagSpec, HELP_FLAG, parseCommandLine, UsageError } from './flags.js';

/**
 * The version in package.json, two levels up from this module both in src/cli/ and in dist/cli/
 * (the image has /app/package.json next to /app/dist/).
 */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const version = (JSON.parse(text) as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}

const FLAGS: readonly FlagSpec[] = [HELP_FLAG];

export const versionCommand: Command = {
  name: 'version',
  summary: 'print the version (also: --version)',
  usage: '',
  description: `Prints "${PROGRAM} <version>", the version of the installed package.`,
  flags: FLAGS,
  async run(argv, io) {
    const parsed = parseCommandLine(argv, FLAGS);
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
    io.stdout(`${PROGRAM} ${packageVersion()}\n`);
    return 0;
  },
};
