/**
 * pino's ISO timestamp (`,"time":"2026-11-27T20:47:07.123Z"`), formatted once per millisecond:
 * under load many lines share a millisecond, and `toISOString` was the costliest part of a log
 * line in the load profile. Same output as `pino.stdTimeFunctions.isoTime`.
 */
let lastMs = Number.NaN;
let lastText = '';

export function isoTimestamp(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastText = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastText;
}
