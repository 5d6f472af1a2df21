import { parentPort, workerData } from 'node:worker_threads';
import { batchResult, type Predictor } from './predict.js';

/** Runs batches of images for outputsAll and calibrateAll: their output rows (and tensor ranges). */
const p = workerData as Predictor;
parentPort!.on('message', (m: { x: Float64Array; n: number; ranges: boolean }) => {
  const r = batchResult(p, m.x, m.n, m.ranges);
  // Only a buffer of its own may be transferred (the engine's output could be a view of another).
  const y = r.y.byteOffset === 0 && r.y.byteLength === r.y.buffer.byteLength ? r.y : r.y.slice();
  parentPort!.postMessage({ ...r, y }, [y.buffer as ArrayBuffer]);
});
