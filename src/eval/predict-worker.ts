import { parentPort, workerData } from 'node:worker_threads';
import { outputsBatch, type Predictor } from './predict.js';

/** Runs batches of images for outputsAll: their output rows. */
const p = workerData as Predictor;
parentPort!.on('message', (m: { x: Float64Array; n: number }) => {
  const r = outputsBatch(p, m.x, m.n);
  // Only a buffer of its own may be transferred (the engine's output could be a view of another).
  const y = r.byteOffset === 0 && r.byteLength === r.buffer.byteLength ? r : r.slice();
  parentPort!.postMessage(y, [y.buffer as ArrayBuffer]);
});
