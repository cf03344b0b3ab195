import { defineConfig } from 'vitest/config';

// Docker tests: need a Docker engine (scripts/ci-docker.sh starts one). Not part of `npm test`.
//   npx vitest run --config test/docker/vitest.config.ts
export default defineConfig({
  test: {
    name: 'docker',
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/docker/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 240_000,
  },
});
