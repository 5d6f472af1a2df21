import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // onnxruntime-node is a native addon; forks isolate it more reliably than threads.
    pool: 'forks',
  },
});
