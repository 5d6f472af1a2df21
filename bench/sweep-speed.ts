/**
 * Times `fxpq sweep` on one model: cold on 1 thread, cold on 2 threads (configurations side by
 * side), and a re-run served by the content-hash cache; checks the three give the same points.
 *   npm run build && node dist/bench/sweep-speed.js [--model lenet5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CHOICE, DEFAULT_SWEEP_MACS, sweepConfigs } from '../src/sweep/configs.js';
import { runSweep, type SweepOptions } from '../src/sweep/sweep.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const model = arg('model', 'lenet5');
const cache = mkdtempSync(join(tmpdir(), 'fxpq-sweep-bench-'));
const base: SweepOptions = {
  model: `models/${model}.onnx`,
  calib: 'models/data/calib_x.npy',
  test: { data: 'models/data/test_x.npy', labels: 'models/data/test_y.npy' },
  configs: sweepConfigs(DEFAULT_CHOICE),
  macs: DEFAULT_SWEEP_MACS,
  target: 'xc7',
  clockMhz: 100,
  seed: 0,
  minBits: 2,
  startBits: 16,
  objective: 'params',
  workers: 1,
  cacheDir: null,
  chooseDrop: 1,
};
const one = await runSweep({ ...base, workers: 1 });
const two = await runSweep({ ...base, workers: 2, cacheDir: cache });
const hit = await runSweep({ ...base, workers: 2, cacheDir: cache });
rmSync(cache, { recursive: true, force: true });
const same =
  JSON.stringify(one.result.points) === JSON.stringify(two.result.points) &&
  JSON.stringify(two.result.points) === JSON.stringify(hit.result.points);
const t1 = one.result.seconds.total,
  t2 = two.result.seconds.total,
  t3 = hit.result.seconds.total;
console.log(`${model}: ${base.configs.length} configurations x ${base.macs.length} MAC budgets`);
console.log(`  1 thread, cold:   ${t1.toFixed(1)} s`);
console.log(`  2 threads, cold:  ${t2.toFixed(1)} s  (${(t1 / t2).toFixed(2)}x the 1-thread run)`);
console.log(`  2 threads, cache: ${t3.toFixed(2)} s  (${(t2 / t3).toFixed(0)}x the cold run; every configuration from the cache)`);
console.log(`  same points in all three runs: ${same ? 'yes' : 'NO'}`);
if (!same) process.exit(1);
