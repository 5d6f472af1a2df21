import { evaluateInt } from '../src/intref/evaluate.js';
import { quantizeModel } from '../src/search/quantize.js';
import { fashionMnistTest } from './fashion-mnist.js';
const full = fashionMnistTest()!;
for (const job of process.argv.slice(2)) {
  const [model, seed] = job.split(':');
  const r = await quantizeModel({ model: `models/${model}.onnx`, calib: 'models/data/calib_x.npy', method: 'fxpqnet', maxDrop: 1, minBits: 2, startBits: 16, objective: 'params', seed: Number(seed) });
  const ev = evaluateInt(r.q, full.images, { labels: full.labels });
  let first = 0; for (let i = 0; i < 1000; i++) if (ev.predictions[i] === full.labels[i]) first++;
  console.log(`${model} s${seed} tie=${process.env.FXPQ_TIE ?? 0}: ${ev.top1!.toFixed(2)} (first 1000 ${(first / 10).toFixed(1)}) params ${r.report.compression.params.toFixed(2)}x overall ${r.report.compression.overall.toFixed(2)}x ${r.report.seconds.toFixed(0)} s`);
}
