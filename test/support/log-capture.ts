import { Writable } from 'node:stream';
import { createLogger } from '../../src/logging/logger.js';
import type { Logger } from '../../src/logger.js';

/** A real pino logger (same options and redaction as production) whose lines are kept in memory. */
export function captureLogs(level = 'trace'): { log: Logger; lines: () => string[]; text: () => string; records: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const log = createLogger({ level, format: 'json', destination: destination as unknown as NodeJS.WritableStream & { write(s: string): boolean } });
  const text = () => chunks.join('');
  const lines = () => text().split('\n').filter((l) => l !== '');
  return { log, lines, text, records: () => lines().map((l) => JSON.parse(l) as Record<string, unknown>) };
}
