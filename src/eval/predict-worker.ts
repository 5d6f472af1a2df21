import { workerData } from 'node:worker_threads';
import { serve } from '../util/worker-pool.js';
import { batchResult, type BatchResult, type Predictor } from './predict.js';

/** Runs batches of images for outputsAll and calibrateAll: their output rows (and tensor ranges). */
const p = workerData as Predictor;
serve<{ x: Float64Array; n: number; ranges: boolean }, BatchResult>(
  (m) => {
    const r = batchResult(p, m.x, m.n, m.ranges);
    // Only a buffer of its own may be transferred (the engine's output could be a view of another).
    const y = r.y.byteOffset === 0 && r.y.byteLength === r.y.buffer.byteLength ? r.y : r.y.slice();
    return { ...r, y };
  },
  (r) => [r.y.buffer as ArrayBuffer],
);
