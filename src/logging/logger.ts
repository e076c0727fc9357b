import { type DestinationStream, type LoggerOptions, pino } from 'pino';
import type { Logger } from '../logger.js';
import { redaction } from './redaction.js';

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
    redact: { paths: [...redaction.paths], censor: redaction.censor },
    timestamp: pino.stdTimeFunctions.isoTime,
    base: { service: 'registry-config-webhook' },
    formatters: { level: (label) => ({ level: label }) },
  };
}

export function createLogger(settings: LoggerSettings): Logger {
  const options = loggerOptions(settings.level);
  if (settings.destination) return pino(options, settings.destination) as unknown as Logger;
  if (settings.format === 'pretty') {
    // pino-pretty in-process (no worker thread): fine for a human at a terminal.
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:standard' } } }) as unknown as Logger;
  }
  return pino(options) as unknown as Logger;
}
