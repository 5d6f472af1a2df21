import { parentPort, workerData } from 'node:worker_threads';
import { type Predictor, predictBatch } from './predict.js';

/** Runs batches of images for predictAll. */
const p = workerData as Predictor;
parentPort!.on('message', (m: { x: Float64Array; n: number }) => {
  const r = predictBatch(p, m.x, m.n);
  parentPort!.postMessage(r, [r.pred.buffer as ArrayBuffer, r.tied.buffer as ArrayBuffer]);
});
