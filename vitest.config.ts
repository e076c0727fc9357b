import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One temporary directory per run, removed at its end (test/support/temp-root.ts).
    globalSetup: ['test/support/temp-root.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests start real servers on ephemeral ports; two cores are the norm here.
    pool: 'forks',
    maxWorkers: 2,
  },
});
