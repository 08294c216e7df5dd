import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // tfjs backends are process-global: isolate test files in their own processes.
    pool: 'forks',
  },
});
