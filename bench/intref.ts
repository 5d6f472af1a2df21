/**
 * Integer-reference throughput next to the float engine and onnxruntime-node (one intra-op thread,
 * sequential, as bench/engine.ts runs it) on the same model, images and batch.
 *   npm run build && node dist/bench/intref.js [models/resnet8.onnx | resnet18] [--images N] [--bits 8] [--batch 16] [--no-ort]
 * `resnet18` is the synthetic ResNet-18-sized network of src/onnx/resnet18.ts (11.2 M parameters).
 * Convolutions and dense layers whose accumulators fit 32 bits run in int32 WebAssembly (16-bit
 * tap pairs where the operands fit), with tensors kept in WebAssembly memory between such layers;
 * FXPQ_INTREF_F64=1 times the exact float64 path instead, for comparison.
 *
 * Each engine is timed over the whole image set, repeated for at least a second; the best pass
 * counts (other processes on the machine only ever slow a pass down). Images/s are also given per
 * second of this process's CPU time, which is steadier on a busy machine.
 */
import { readFileSync } from 'node:fs';
import { runGraph } from '../src/engine/run.js';
import { onnxRuntime } from '../src/engine/ort.js';
import { runQGraph } from '../src/intref/run.js';
import { loadImages } from '../src/io/dataset.js';
import { size } from '../src/ir/types.js';
import { importOnnx } from '../src/onnx/import.js';
import { buildQGraph } from '../src/quant/build.js';
import { calibrate } from '../src/quant/calibrate.js';
import { fuseGraph } from '../src/quant/fuse.js';
import { uniformAssignment } from '../src/quant/uniform.js';
import { resnet18Onnx } from '../src/onnx/resnet18.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const model = args.find((a) => a.endsWith('.onnx') || a === 'resnet18') ?? 'models/resnet8.onnx';
const images = opt('--images', model === 'resnet18' ? 32 : 1000);
const bits = opt('--bits', 8);
const batch = opt('--batch', 16);
const bytes = model === 'resnet18' ? resnet18Onnx() : readFileSync(model);
const g = importOnnx(bytes, { file: model });
const cal = loadImages('models/data/calib_x.npy', g.input.shape, { limit: 64 });
const fg = fuseGraph(g);
const q = buildQGraph(fg, uniformAssignment(fg, calibrate(g, cal), bits));
const data = loadImages('models/data/test_x.npy', g.input.shape, { limit: images });
const per = size(g.input.shape);

interface Rate {
  wall: number;
  cpu: number;
}
async function time(f: (x: Float64Array, n: number) => unknown): Promise<Rate> {
  const pass = async () => {
    for (let s = 0; s < data.count; s += batch) {
      const n = Math.min(batch, data.count - s);
      await f(data.data.subarray(s * per, (s + n) * per), n);
    }
  };
  await pass(); // warm-up: compilation, packed weights
  let wall = 0,
    cpu = 0;
  const t0 = performance.now();
  do {
    const t = performance.now(),
      c = process.cpuUsage();
    await pass();
    const dc = process.cpuUsage(c);
    wall = Math.max(wall, data.count / ((performance.now() - t) / 1000));
    cpu = Math.max(cpu, data.count / ((dc.user + dc.system) / 1e6));
  } while (performance.now() - t0 < 1000);
  return { wall, cpu };
}

const fl = await time((x, n) => runGraph(g, x, n));
const it = await time((x, n) => runQGraph(q, x, n));
let ort: Rate | null = null;
const rt = args.includes('--no-ort') ? null : await onnxRuntime();
if (rt) {
  const session = await rt.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const x32 = Float32Array.from(data.data);
  ort = await time((x, n) => {
    const off = x.byteOffset / 8;
    return session.run({ [session.inputNames[0]]: new rt.Tensor('float32', x32.subarray(off, off + n * per), [n, ...g.input.shape]) });
  });
  await session.release();
}

const show = (r: Rate) => `${r.wall.toFixed(1).padStart(8)} images/s  (${r.cpu.toFixed(1).padStart(7)} per CPU second)`;
console.log(
  `model ${model}, ${data.count} images, batch ${batch}, uniform ${bits} bits, 1 thread, integer convolutions in ${process.env.FXPQ_INTREF_F64 === '1' ? 'float64 (FXPQ_INTREF_F64=1)' : 'int32 where exact'}`,
);
console.log(`float64 engine     : ${show(fl)}`);
console.log(`integer reference  : ${show(it)}  ${(it.wall / fl.wall).toFixed(2)}x the float engine`);
if (ort) {
  console.log(`onnxruntime-node   : ${show(ort)}`);
  console.log(`int ref / ORT      : ${(it.wall / ort.wall).toFixed(2)} (per CPU second: ${(it.cpu / ort.cpu).toFixed(2)})`);
}
console.log(`10,000 images      : ${(10000 / it.wall / 60).toFixed(1)} min on one core, ${(10000 / it.wall / 120).toFixed(1)} min on two`);
