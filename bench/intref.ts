/**
 * Integer-reference throughput next to the float engine on the same model and images.
 *   npm run build && node dist/bench/intref.js [models/resnet8.onnx | resnet18] [--images N] [--bits 8]
 * `resnet18` is the synthetic ResNet-18-sized network of bench/resnet18.ts (11.2 M parameters).
 * Convolutions whose accumulators fit 32 bits run in int32 WebAssembly (16-bit tap pairs where the
 * operands fit); FXPQ_INTREF_F64=1 times the exact float64 path instead, for comparison.
 */
import { readFileSync } from 'node:fs';
import { runGraph } from '../src/engine/run.js';
import { runQGraph } from '../src/intref/run.js';
import { loadImages } from '../src/io/dataset.js';
import { size } from '../src/ir/types.js';
import { importOnnx } from '../src/onnx/import.js';
import { buildQGraph } from '../src/quant/build.js';
import { calibrate } from '../src/quant/calibrate.js';
import { fuseGraph } from '../src/quant/fuse.js';
import { uniformAssignment } from '../src/quant/uniform.js';
import { resnet18Onnx } from './resnet18.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : d; };
const model = args.find((a) => a.endsWith('.onnx') || a === 'resnet18') ?? 'models/resnet8.onnx';
const images = opt('--images', model === 'resnet18' ? 32 : 1000);
const bits = opt('--bits', 8);
const g = importOnnx(model === 'resnet18' ? resnet18Onnx() : readFileSync(model), { file: model });
const cal = loadImages('models/data/calib_x.npy', g.input.shape, { limit: 64 });
const fg = fuseGraph(g);
const q = buildQGraph(fg, uniformAssignment(fg, calibrate(g, cal), bits));
const data = loadImages('models/data/test_x.npy', g.input.shape, { limit: images });
const per = size(g.input.shape);
const batch = 16;
const time = (f: (x: Float64Array, n: number) => void) => {
  const t0 = performance.now();
  for (let s = 0; s < data.count; s += batch) {
    const n = Math.min(batch, data.count - s);
    f(data.data.subarray(s * per, (s + n) * per), n);
  }
  return data.count / ((performance.now() - t0) / 1000);
};
const fl = time((x, n) => runGraph(g, x, n));
const it = time((x, n) => runQGraph(q, x, n));
console.log(`model ${model}, ${data.count} images, uniform ${bits} bits, 1 thread, integer convolutions in ${process.env.FXPQ_INTREF_F64 === '1' ? 'float64 (FXPQ_INTREF_F64=1)' : 'int32 where exact'}`);
console.log(`float64 engine     : ${fl.toFixed(1).padStart(9)} images/s`);
console.log(`integer reference  : ${it.toFixed(1).padStart(9)} images/s  (${(it / fl).toFixed(2)}x the float engine)`);
console.log(`10,000 images      : ${(10000 / it / 60).toFixed(1)} min on one core, ${(10000 / it / 120).toFixed(1)} min on two`);
