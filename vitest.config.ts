import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Integration suites share one Temporal dev server and one model; run files one at a time so a
    // 2-core machine is not oversubscribed.
    fileParallelism: false,
    pool: 'forks',
  },
});
