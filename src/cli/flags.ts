import { parseArgs } from 'node:util';

/**
 * One command-line flag. A command's table of these is the single source for parsing it and for
 * its `--help`, so the two cannot drift.
 */
export interface FlagSpec {
  /** Long name without the dashes: `output` for `--output`. */
  name: string;
  /** One letter: `o` for `-o`. */
  short?: string;
  type: 'string' | 'boolean';
  /** May be given more than once; every value is kept. */
  multiple?: boolean;
  /** Placeholder for the value in --help: `FILE`, `text|json`. */
  value?: string;
  help: string;
  defaultText?: string;
}

/** Every command takes --help. */
export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'boolean', help: 'show this help and exit' };

/** A bad command line: exit code 2, with a one-line reason and a hint where to look. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type FlagValue = string | string[] | boolean;

export interface ParsedCommandLine {
  /** By long name; absent when not given. String flags with `multiple` hold every value. */
  flags: Map<string, FlagValue>;
  positionals: string[];
}

/**
 * `--name value`, `--name=value`, `-n value`, boolean `--name`, `--` ends the flags. Unknown flags,
 * a missing value and a value given to a boolean flag are usage errors naming the flag as typed.
 */
export function parseCommandLine(argv: readonly string[], specs: readonly FlagSpec[]): ParsedCommandLine {
  const options = Object.fromEntries(specs.map((spec) => [spec.name, { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) }]));
  // Not strict: tokens are checked below, so every error reads the same and names the flag.
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const flags = new Map<string, FlagValue>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = byName.get(token.name);
    if (!spec) throw new UsageError(`unknown flag ${token.rawName}`);
    if (spec.type === 'boolean') {
      if (token.inlineValue) throw new UsageError(`${token.rawName} takes no value`);
      flags.set(spec.name, true);
      continue;
    }
    const value = token.value;
    // `--out --force`: the next flag is not a value (a lone "-" is: standard input).
    if (value === undefined || value === '' || (!token.inlineValue && value.startsWith('-') && value !== '-')) {
      throw new UsageError(`${token.rawName} needs a value`);
    }
    if (spec.multiple) {
      const previous = flags.get(spec.name);
      flags.set(spec.name, [...(Array.isArray(previous) ? previous : []), value]);
    } else {
      flags.set(spec.name, value);
    }
  }
  return { flags, positionals };
}

/** Beyond this width of "-o, --output VALUE", help text goes on the next line (as kubectl does). */
const MAX_ALIGNED_WIDTH = 32;

/** The `Flags:` lines of a command's --help: every flag of the table, in order. */
export function flagHelpLines(specs: readonly FlagSpec[]): string[] {
  const left = specs.map((spec) => {
    const short = spec.short ? `-${spec.short}, ` : '    ';
    const value = spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : '';
    return `${short}--${spec.name}${value}`;
  });
  const width = Math.max(...left.map((text) => text.length));
  return specs.flatMap((spec, i) => {
    const notes = [spec.multiple ? 'repeatable' : undefined, spec.defaultText !== undefined ? `default: ${spec.defaultText}` : undefined].filter((n) => n !== undefined);
    const help = `${spec.help}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
    const flag = left[i] as string;
    return width <= MAX_ALIGNED_WIDTH ? [`  ${flag.padEnd(width)}   ${help}`] : [`  ${flag}`, `          ${help}`];
  });
}

/** A string flag's value, when given. */
export function stringFlag(parsed: ParsedCommandLine, name: string): string | undefined {
  const value = parsed.flags.get(name);
  return typeof value === 'string' ? value : undefined;
}

/** Every value of a repeatable string flag. */
export function stringsFlag(parsed: ParsedCommandLine, name: string): string[] {
  const value = parsed.flags.get(name);
  return Array.isArray(value) ? value : [];
}

export function booleanFlag(parsed: ParsedCommandLine, name: string): boolean {
  return parsed.flags.get(name) === true;
}
