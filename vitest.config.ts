import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests start real servers on ephemeral ports; two cores are the norm here.
    pool: 'forks',
    maxWorkers: 2,
  },
});
