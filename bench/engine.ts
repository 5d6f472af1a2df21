/**
 * Float engine throughput next to onnxruntime-node on the same model, batch and thread count.
 *   npm run build && node dist/bench/engine.js [models/resnet8.onnx | resnet18] [--images 1000] [--batch 64]
 * `resnet18` is the synthetic ResNet-18-sized network of src/onnx/resnet18.ts.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { runGraph } from '../src/engine/run.js';
import { loadImages } from '../src/io/dataset.js';
import { size } from '../src/ir/types.js';
import { importOnnx } from '../src/onnx/import.js';
import { resnet18Onnx } from '../src/onnx/resnet18.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const model = args.find((a) => a.endsWith('.onnx') || a === 'resnet18') ?? 'models/resnet8.onnx';
const images = opt('--images', model === 'resnet18' ? 64 : 1000);
const batch = opt('--batch', model === 'resnet18' ? 16 : 64);

const bytes = model === 'resnet18' ? resnet18Onnx() : readFileSync(model);
const g = importOnnx(bytes, { file: model });
const data = loadImages('models/data/test_x.npy', g.input.shape, { limit: images });
const per = size(g.input.shape);

function timeIt(f: () => void, minSeconds = 2): number {
  f(); // warm-up
  let runs = 0;
  const t0 = performance.now();
  while ((performance.now() - t0) / 1000 < minSeconds || runs < 1) {
    f();
    runs++;
  }
  return (performance.now() - t0) / 1000 / runs;
}

const ours = timeIt(() => {
  for (let s = 0; s < data.count; s += batch) {
    const n = Math.min(batch, data.count - s);
    runGraph(g, data.data.subarray(s * per, (s + n) * per), n);
  }
});

const x32 = Float32Array.from(data.data);
const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
const runOrtAll = async () => {
  for (let s = 0; s < data.count; s += batch) {
    const n = Math.min(batch, data.count - s);
    await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x32.subarray(s * per, (s + n) * per), [n, ...g.input.shape]) });
  }
};
await runOrtAll();
let ortRuns = 0;
const t0 = performance.now();
while ((performance.now() - t0) / 1000 < 2) {
  await runOrtAll();
  ortRuns++;
}
const ortSec = (performance.now() - t0) / 1000 / ortRuns;

const ipsOurs = data.count / ours;
const ipsOrt = data.count / ortSec;
console.log(`model ${model}, ${data.count} images, batch ${batch}, 1 thread each`);
console.log(`fxpq float64 engine : ${ipsOurs.toFixed(0).padStart(8)} images/s`);
console.log(`onnxruntime-node    : ${ipsOrt.toFixed(0).padStart(8)} images/s`);
console.log(`ratio fxpq / ort    : ${(ipsOurs / ipsOrt).toFixed(3)}`);
