import { type DestinationStream, type LoggerOptions, pino } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '../logger.js';
import { redact } from './redaction.js';
import { isoTimestamp } from './timestamp.js';

export interface LoggerSettings {
  level: string;
  format: 'json' | 'pretty';
  /** Where lines go; stdout by default. Tests pass a stream to capture them. */
  destination?: DestinationStream;
}

/** pino options shared by the server and the CLI: JSON lines, ISO time, redaction, no pid/hostname noise. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    timestamp: isoTimestamp,
    base: { service: 'registry-config-webhook' },
    formatters: {
      level: (label) => ({ level: label }),
      // Redaction, configured in one place (./redaction.ts), on every line and every child's bindings.
      log: (object) => redact(object),
      bindings: (bindings) => redact(bindings),
    },
  };
}

export function createLogger(settings: LoggerSettings): Logger {
  const options = loggerOptions(settings.level);
  if (settings.destination) return pino(options, settings.destination) as unknown as Logger;
  if (settings.format === 'pretty') {
    // pino-pretty as an in-process stream (no worker thread): for a human at a terminal.
    return pino(options, pretty({ colorize: true, translateTime: 'SYS:standard', sync: true })) as unknown as Logger;
  }
  // Asynchronous stdout: lines written while a write is in flight are coalesced into the next one
  // (one syscall per line showed up in the load profile), yet an idle server's line goes out at
  // once. pino flushes what is pending when the process exits.
  return pino(options, pino.destination({ dest: 1, sync: false })) as unknown as Logger;
}
