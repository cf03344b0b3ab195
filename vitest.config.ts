import { defineConfig } from 'vitest/config';

// Two projects: `unit` (engine, conformance, crypto, pure helpers: no broker needed)
// and `integration` (real RabbitMQ nodes brought up by test/setup/cluster.ts).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/conformance/**/*.test.ts', 'examples/**/*.test.ts'],
          globalSetup: ['test/setup/build.ts'],
          // no broker, but some spawn the CLI or run property tests: on a loaded 2-core machine
          // those take seconds, and a timeout is no place to assert speed (npm run bench is)
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          globalSetup: ['test/setup/build.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        // also run by scripts/ci-docker.sh (test/docker/vitest.config.ts) with its own engine
        test: {
          name: 'docker',
          include: ['test/docker/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 240_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/build.ts', 'test/setup/cluster.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
