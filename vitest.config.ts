import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // onnxruntime-node is a native addon; forks isolate it more reliably than threads.
    pool: 'forks',
    // Both cores: on a 2-core machine vitest would otherwise use one worker. The RTL simulations
    // and syntheses are long single-threaded processes, one per test file.
    maxWorkers: 2,
    minWorkers: 1,
    // The JSON file lets .ci/run print a plain "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});
