import { type FlagSpec, flagHelpLines } from './flags.js';

export const PROGRAM = 'registry-config-webhook';

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** A subcommand: its flag table parses its arguments and writes its --help. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** What follows `registry-config-webhook <name>` in the usage line. */
  usage: string;
  /** Paragraphs after the usage line. */
  description: string;
  flags: readonly FlagSpec[];
  /** Lines after the flags (examples, exit codes); may be empty. */
  footer?: string;
  /** Returns the exit code: 0 success, 2 bad command line, others as the command says. */
  run(argv: readonly string[], io: CommandIo): Promise<number>;
}

export function commandHelp(command: Command): string {
  const lines = [`Usage: ${PROGRAM} ${command.name}${command.usage ? ` ${command.usage}` : ''}`, '', command.description, '', 'Flags:', ...flagHelpLines(command.flags)];
  if (command.footer) lines.push('', command.footer);
  return `${lines.join('\n')}\n`;
}

/** The one-line reason and where to look, as kubectl and helm print them. */
export function usageFailure(command: string | undefined, message: string): string {
  const where = command ? `${PROGRAM} ${command}` : PROGRAM;
  return `${where}: ${message}\nRun '${where} --help' for usage.\n`;
}
