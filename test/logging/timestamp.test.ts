import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isoTimestamp } from '../../src/logging/timestamp.js';

describe('isoTimestamp', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes what pino's isoTime writes, and follows the clock from one millisecond to the next", () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-27T20:47:07.123Z'));
    expect(isoTimestamp()).toBe(',"time":"2026-11-27T20:47:07.123Z"');
    expect(isoTimestamp()).toBe(pino.stdTimeFunctions.isoTime());
    vi.setSystemTime(new Date('2026-11-27T20:47:07.124Z'));
    expect(isoTimestamp()).toBe(',"time":"2026-11-27T20:47:07.124Z"');
    vi.setSystemTime(new Date('2027-01-01T00:00:00.000Z'));
    expect(JSON.parse(`{${isoTimestamp().slice(1)}}`)).toEqual({ time: '2027-01-01T00:00:00.000Z' });
  });
});
