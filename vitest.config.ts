import { defineConfig } from 'vitest/config';

// Every test runs against the real PostgreSQL and Redis on 127.0.0.1; each isolates itself with its own
// database and Redis key prefix (test/support). Files run in forked processes, two at a time (2 cores).
export default defineConfig({
  test: {
    include: ['*/test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
