import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  // graphql 16 ships CommonJS and ESM builds; Node (and so Pothos, Yoga) loads the CommonJS one.
  // Resolve tests' imports to the same file, or schema objects come from two "realms".
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    include: ['server/**/*.test.ts', 'k8s/**/*.test.ts', 'schemas/**/*.test.ts', 'alerting/**/*.test.ts', 'client/e2e/**/*.test.ts'],
    globalSetup: ['server/test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll's own default is 1 s: too short on a loaded 2-core machine for what our polls wait
    // on (a WebSocket's handshake and replay, a child process, a database read). A poll that
    // passes its condition returns at once; only a failing one waits this long.
    expect: { poll: { timeout: 15_000 } },
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
