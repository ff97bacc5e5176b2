import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // End-to-end files start real processes (Claude Code, the agent, the collector);
    // two cores do not profit from running them side by side.
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
  },
});
