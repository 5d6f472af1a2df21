import { argmaxRows, tiedRows } from '../engine/run.js';
import type { Images } from '../io/dataset.js';
import { size } from '../ir/types.js';
import type { QGraph } from '../quant/qgraph.js';
import { runQGraph } from './run.js';

export interface IntEvalResult {
  images: number;
  top1: number | null;
  /** Percent of images whose top-1 equals the float model's, or null without it. */
  agreement: number | null;
  /** Images whose largest integer logit is shared by two or more classes (engine/run.ts tiedRows). */
  ties: number;
  seconds: number;
  predictions: Int32Array;
}

/** Top-1 (and agreement with float predictions) of the integer reference over a data set. */
export function evaluateInt(
  q: QGraph,
  imgs: Images,
  opts: { labels?: Int32Array; floatPredictions?: Int32Array; batch?: number; onProgress?: (done: number) => void } = {},
): IntEvalResult {
  const batch = opts.batch ?? 64;
  const per = size(q.values[q.input].shape);
  const predictions = new Int32Array(imgs.count);
  const t0 = performance.now();
  let ties = 0;
  for (let s = 0; s < imgs.count; s += batch) {
    const n = Math.min(batch, imgs.count - s);
    const y = runQGraph(q, imgs.data.subarray(s * per, (s + n) * per), n).output;
    predictions.set(argmaxRows(y, n), s);
    ties += tiedRows(y, n).reduce((acc, t) => acc + t, 0);
    opts.onProgress?.(s + n);
  }
  const seconds = (performance.now() - t0) / 1000;
  const share = (ref?: Int32Array) => {
    if (!ref) return null;
    let ok = 0;
    for (let i = 0; i < imgs.count; i++) if (predictions[i] === ref[i]) ok++;
    return (100 * ok) / imgs.count;
  };
  return { images: imgs.count, top1: share(opts.labels), agreement: share(opts.floatPredictions), ties, seconds, predictions };
}
