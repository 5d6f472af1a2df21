import type { Images } from '../io/dataset.js';
import type { Graph } from '../ir/types.js';
import { size } from '../ir/types.js';
import { argmaxRows, runGraph } from '../engine/run.js';

export interface EvalResult {
  images: number;
  /** Percent, or null without labels. */
  top1: number | null;
  seconds: number;
  predictions: Int32Array;
}

export interface EvalOptions {
  batch?: number;
  onProgress?: (done: number) => void;
}

/** Runs the float engine over a data set in batches and scores top-1 against labels when given. */
export function evaluate(g: Graph, imgs: Images, labels?: Int32Array, opts: EvalOptions = {}): EvalResult {
  const batch = opts.batch ?? 64;
  const per = size(g.input.shape);
  const predictions = new Int32Array(imgs.count);
  const t0 = performance.now();
  for (let s = 0; s < imgs.count; s += batch) {
    const n = Math.min(batch, imgs.count - s);
    const y = runGraph(g, imgs.data.subarray(s * per, (s + n) * per), n).output;
    predictions.set(argmaxRows(y, n), s);
    opts.onProgress?.(s + n);
  }
  const seconds = (performance.now() - t0) / 1000;
  let top1: number | null = null;
  if (labels) {
    let ok = 0;
    for (let i = 0; i < imgs.count; i++) if (predictions[i] === labels[i]) ok++;
    top1 = (100 * ok) / imgs.count;
  }
  return { images: imgs.count, top1, seconds, predictions };
}
