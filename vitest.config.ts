import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Longest test files first, so the two workers finish together. Without a timing cache (a fresh
 * clone in CI) vitest orders by file size, which would start the tiny but slow RTL files last.
 */
const SLOW_FIRST = [
  'rtl-zoo-lenet5',
  'rtl-zoo-resnet8',
  'rtl-zoo-vgg_bn',
  'rtl-zoo-mobilenet',
  'rtl-zoo-mlp',
  'synth',
  'implement',
  'zoo-quant',
  'search',
  'rtl-props',
];
class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((n) => f.moduleId.endsWith(`/${n}.test.ts`));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    return [...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId));
  }
}

/**
 * The fast tier (`npm run test:unit`, FXPQ_TEST_TIER=unit) for the edit-test loop: everything but
 * the files that need Debian's packages (Icarus, Verilator, Chromium for the HTML reports) or run
 * for minutes (RTL of the zoo, Yosys synthesis, place and route). `npm test`, which CI runs, is the whole suite.
 */
const NEEDS_SIMULATORS_OR_MINUTES = [
  'rtl-zoo-lenet5',
  'rtl-zoo-resnet8',
  'rtl-zoo-vgg_bn',
  'rtl-zoo-mobilenet',
  'rtl-zoo-mlp',
  'rtl-props',
  'rtl-grouped',
  'rtl-concat',
  'rtl-resnet18',
  'synth',
  'implement',
  'hw',
  'run',
  'sweep',
  'hostile-names',
  'hostile-out',
].map((n) => `test/${n}.test.ts`);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: process.env.FXPQ_TEST_TIER === 'unit' ? NEEDS_SIMULATORS_OR_MINUTES : [],
    setupFiles: ['test/setup-fast-check.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // onnxruntime-node is a native addon; forks isolate it more reliably than threads.
    pool: 'forks',
    // Both cores: on a 2-core machine vitest would otherwise use one worker. The RTL simulations
    // and syntheses are long single-threaded processes, one per test file.
    maxWorkers: 2,
    minWorkers: 1,
    sequence: { sequencer: SlowFirst },
    // The JSON file lets .ci/run print a plain "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});
