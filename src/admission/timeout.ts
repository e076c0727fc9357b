/**
 * The API server appends `?timeout=<Go duration>` (its timeoutSeconds, e.g. `10s`) to every call.
 * Returns milliseconds, or undefined when absent or not understood (then a default applies).
 */
export function parseTimeoutParameter(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  // Go's time.Duration.String(): e.g. "10s", "1m0s", "500ms", "2.5s".
  const part = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/y;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
  let total = 0;
  let index = 0;
  while (index < value.length) {
    part.lastIndex = index;
    const match = part.exec(value);
    if (!match) return undefined;
    total += Number(match[1]) * (unit[match[2] as string] as number);
    index = part.lastIndex;
  }
  return total > 0 ? total : undefined;
}
