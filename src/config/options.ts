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

export function duration(minMs = 0, maxMs = Number.POSITIVE_INFINITY): (text: string) => number {
  return (text) => {
    const ms = parseDuration(text);
    if (ms === undefined) throw new Error('must be a duration such as 500ms, 10s, 5m, 2h, 90d or 10y');
    if (ms < minMs) throw new Error(`must be at least ${formatDuration(minMs)}`);
    if (ms > maxMs) throw new Error(`must be at most ${formatDuration(maxMs)}`);
    return ms;
  };
}

const BYTE_UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** A size as Kubernetes writes it: `33554432`, `512Ki`, `32Mi`, `1Gi`. */
export function byteSize(min: number, max: number): (text: string) => number {
  const shown = (n: number) => (n % 1024 ** 2 === 0 ? `${n / 1024 ** 2}Mi` : String(n));
  return (text) => {
    const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(text.trim());
    const bytes = match ? Number(match[1]) * (BYTE_UNITS[match[2] ?? ''] as number) : NaN;
    if (!Number.isSafeInteger(bytes)) throw new Error('must be a size such as 33554432, 512Ki, 32Mi or 1Gi');
    if (bytes < min || bytes > max) throw new Error(`must be between ${shown(min)} and ${shown(max)}`);
    return bytes;
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
