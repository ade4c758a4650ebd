import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@nephron/source'] },
  ssr: { resolve: { conditions: ['@nephron/source'] } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'apps/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'packages/*/examples/**/*.test.ts',
    ],
    // Every test file opens its own Dawn device on a software GPU that already uses every core.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
