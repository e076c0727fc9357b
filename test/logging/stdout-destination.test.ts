import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/logging/logger.js';
import { stdoutDestination } from '../../src/logging/stdout-destination.js';
import { eventually } from '../support/eventually.js';

describe('the stdout destination (asynchronous, SonicBoom in buffer mode)', () => {
  let dir: string;
  let file: string;
  let fd: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rcw-log-'));
    file = join(dir, 'out.log');
    fd = openSync(file, 'a');
  });
  afterEach(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });

  const lines = () =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it("writes an idle server's single line at once, without waiting for more", async () => {
    const log = pino(loggerOptions('info'), stdoutDestination(fd));
    log.info({ uid: 'u-1' }, 'admission review');
    await eventually(() => expect(lines()).toHaveLength(1), 1000);
    expect(lines()[0]).toMatchObject({ level: 'info', uid: 'u-1', msg: 'admission review', service: 'registry-config-webhook' });
  });

  it('keeps every line of a burst, whole and in order, multi-byte characters included', async () => {
    const log = pino(loggerOptions('info'), stdoutDestination(fd));
    const names = ['naïve', 'emoji-😀', '日本語', 'plain'];
    for (let i = 0; i < 5000; i++) log.info({ i, name: names[i % names.length] }, 'burst');
    // Lines logged while a write is in flight go out with the next write.
    const written = await eventually(() => {
      const all = lines();
      expect(all).toHaveLength(5000);
      return all;
    }, 5000);
    written.forEach((line, i) => {
      expect(line.i).toBe(i);
      expect(line.name).toBe(names[i % names.length]);
    });
  });

  it('flushes synchronously on demand (what pino does at exit)', () => {
    const destination = stdoutDestination(fd);
    const log = pino(loggerOptions('info'), destination);
    for (let i = 0; i < 100; i++) log.warn({ i }, 'before exit');
    destination.flushSync();
    expect(lines().map((l) => l.i)).toEqual([...Array(100).keys()]);
  });
});
