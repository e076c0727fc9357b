import { formatDuration, parseDuration } from './duration.js';

/**
 * One configuration option: an environment variable with a command-line flag twin.
 * The table below is the single source for parsing, defaults and `--help`.
 */
export interface OptionSpec<T> {
  env: string;
  flag: string;
  help: string;
  /** Shown in --help; undefined means "unset" (optional). */
  defaultText: string | undefined;
  /** Returns the value or throws an Error whose message says what is expected. */
  parse: (text: string) => T;
}

export class OptionError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
    this.name = 'OptionError';
  }
}

export function integer(min: number, max: number): (text: string) => number {
  return (text) => {
    if (!/^\d+$/.test(text.trim())) throw new Error(`must be an integer between ${min} and ${max}`);
    const n = Number(text);
    if (n < min || n > max) throw new Error(`must be an integer between ${min} and ${max}`);
    return n;
  };
}

export function duration(minMs = 0): (text: string) => number {
  return (text) => {
    const ms = parseDuration(text);
    if (ms === undefined) throw new Error('must be a duration such as 500ms, 10s, 5m, 2h, 90d or 10y');
    if (ms < minMs) throw new Error(`must be at least ${formatDuration(minMs)}`);
    return ms;
  };
}

export function oneOf<const T extends string>(values: readonly T[]): (text: string) => T {
  return (text) => {
    const value = text.trim() as T;
    if (!values.includes(value)) throw new Error(`must be one of ${values.join(', ')}`);
    return value;
  };
}

export function nonEmpty(text: string): string {
  const value = text.trim();
  if (value === '') throw new Error('must not be empty');
  return value;
}

/** `namespace/name`, both DNS-1123 labels/subdomains. */
export function namespacedName(text: string): { namespace: string; name: string } {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(text.trim());
  if (!match) throw new Error('must be <namespace>/<name>');
  return { namespace: match[1] as string, name: match[3] as string };
}

export function dnsName(text: string): string {
  const value = text.trim();
  if (!/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(value) || value.length > 253) {
    throw new Error('must be a lowercase DNS name');
  }
  return value;
}
