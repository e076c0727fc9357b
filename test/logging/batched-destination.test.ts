import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchedDestination } from '../../src/logging/batched-destination.js';
import { loggerOptions } from '../../src/logging/logger.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('batchedDestination', () => {
  let dir: string;
  let file: string;
  let fd: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rcw-log-'));
    file = join(dir, 'out.log');
    fd = openSync(file, 'w');
  });
  afterEach(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });

  const lines = () =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it("an idle server's line is written in the same event-loop turn", async () => {
    const log = pino(loggerOptions('info'), batchedDestination(fd));
    log.info({ uid: 'u-1' }, 'admission review');
    await nextTurn();
    expect(lines()).toEqual([expect.objectContaining({ level: 'info', msg: 'admission review', uid: 'u-1', service: 'registry-config-webhook' })]);
  });

  it('writes every line of a busy turn, in order, and keeps writing in later turns', async () => {
    const log = pino(loggerOptions('info'), batchedDestination(fd));
    for (let i = 0; i < 1000; i++) log.info({ n: i }, 'line');
    await nextTurn();
    log.warn({ n: 1000 }, 'later');
    await nextTurn();
    const written = lines();
    expect(written.map((line) => line.n)).toEqual(Array.from({ length: 1001 }, (_, i) => i));
    expect(written[1000]).toMatchObject({ level: 'warn', msg: 'later' });
  });

  it('flushSync writes what is pending at once (what the exit handler does before process.exit)', () => {
    const destination = batchedDestination(fd);
    const log = pino(loggerOptions('info'), destination);
    log.fatal({ event: 'uncaughtException' }, 'unexpected error; exiting');
    destination.flushSync();
    expect(lines()).toEqual([expect.objectContaining({ level: 'fatal', msg: 'unexpected error; exiting' })]);
  });
});
