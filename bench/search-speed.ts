/**
 * Times the FxP-QNet search.
 *   npm run build && node dist/bench/search-speed.js [--models resnet8|none] [--resnet18 [--evals-per-ds N]]
 * For each zoo model: wall time, evaluations, steps, on both cores. With --resnet18: the cost of
 * one evaluation of the synthetic ResNet-18-sized network (src/onnx/resnet18.ts), measured on 32
 * images and scaled to the 256 search images, and the projected search time from the evaluation
 * count per data structure measured on the zoo (a full search at that size is far beyond this
 * machine's budget today).
 */
import { runGraph } from '../src/engine/run.js';
import { loadImages } from '../src/io/dataset.js';
import { size } from '../src/ir/types.js';
import { importOnnx } from '../src/onnx/import.js';
import { calibrate } from '../src/quant/calibrate.js';
import { fuseGraph } from '../src/quant/fuse.js';
import { attachCompensation, crossFittedCompensations } from '../src/quant/compensate.js';
import { Replica, shardRanges } from '../src/search/backend.js';
import { uniformAssignment as maxRuleAssignment } from '../src/quant/uniform.js';
import { quantizeModel } from '../src/search/quantize.js';
import { dataStructures } from '../src/search/structures.js';
import { resnet18Onnx } from '../src/onnx/resnet18.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const names = (arg('--models') ?? 'resnet8').split(',').filter((n) => n !== 'none');
let evalsPerDs = Number(arg('--evals-per-ds') ?? 0);
for (const name of names) {
  const model = `models/${name}.onnx`;
  const r = await quantizeModel({
    model,
    calib: 'models/data/calib_x.npy',
    method: 'fxpqnet',
    maxDrop: 1,
    minBits: 2,
    startBits: 16,
    objective: 'params',
    seed: 0,
  });
  const nDs = dataStructures(fuseGraph(r.graph)).length;
  evalsPerDs = (r.report.evaluations as number) / nDs;
  console.log(
    `${name}: ${r.report.seconds.toFixed(1)} s on 2 worker threads, ${r.report.evaluations} evaluations, ${r.report.search_steps} steps, ${nDs} data structures, params ${r.report.compression.params.toFixed(2)}x`,
  );
}
if (process.argv.includes('--resnet18')) {
  const g = importOnnx(resnet18Onnx(), { file: 'resnet18' });
  const cal = loadImages('models/data/calib_x.npy', g.input.shape, { limit: 32 });
  const fg = fuseGraph(g);
  const stats = calibrate(g, loadImages('models/data/calib_x.npy', g.input.shape, { limit: 32 }));
  const teacher = new Float64Array(cal.count * 10);
  const per = size(g.input.shape);
  for (let s = 0; s < cal.count; s += 32) teacher.set(runGraph(g, cal.data.subarray(s * per, (s + 32) * per), 32).output, s * 10);
  const b = new Replica({
    fg,
    searchFg: fg,
    search: { images: cal.data, teacher },
    valid: { images: cal.data.subarray(0, 0), teacher: new Float64Array(0) },
  });
  const t0 = performance.now();
  b.s.commit(maxRuleAssignment(fg, stats, 8), 0);
  const one = ((performance.now() - t0) / 1000) * (256 / 32);
  const nDs = dataStructures(fg).length;
  // Error-compensating rounding: second moments on the 256 search images, then one factorisation per block.
  const calC = loadImages('models/data/calib_x.npy', g.input.shape, { limit: 256 });
  const tc = performance.now();
  attachCompensation(fg, calC.data, calC.count);
  const tx = performance.now();
  crossFittedCompensations(fg, calC.data, shardRanges(calC.count));
  console.log(
    `resnet18-sized: error-compensation statistics and factorisations (256 images) ${((tx - tc) / 1000).toFixed(1)} s on one core, cross-fitted ones for the two shards ${((performance.now() - tx) / 1000).toFixed(1)} s`,
  );
  const projected = (evalsPerDs * nDs * one) / 2 / 2; // two workers; an average evaluation starts mid-network
  console.log(
    `resnet18-sized (11.2 M params, ${nDs} data structures): one full evaluation on 256 search images takes ${one.toFixed(1)} s on one core; projected search ${(projected / 3600).toFixed(1)} h at ${evalsPerDs.toFixed(1)} evaluations per data structure`,
  );
}
