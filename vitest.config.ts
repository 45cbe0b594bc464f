import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// Every test runs against the real PostgreSQL and Redis on 127.0.0.1; each isolates itself with its own
// database and Redis key prefix (test/support). Files run in forked processes, two at a time (2 cores).
export default defineConfig({
  resolve: {
    // graphql ships CommonJS and ESM builds without an exports map: Node (and so Pothos) loads the CommonJS
    // one, Vite would pick the ESM one. One instance only, or `instanceof` checks across them fail.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['*/test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
