import { argmaxRows, runGraph, tiedRows } from '../engine/run.js';
import { runQGraph } from '../intref/run.js';
import type { Graph } from '../ir/types.js';
import { mergeRange, mergeRanges, type ValueStats } from '../quant/calibrate.js';
import type { QGraph } from '../quant/qgraph.js';
import { runOnWorkers } from '../util/worker-pool.js';
import { workerScript } from '../util/worker-script.js';

/** A float graph (engine) or a quantized graph (integer reference). */
export type Predictor = { kind: 'float'; graph: Graph } | { kind: 'int'; q: QGraph };

/** Top-1 class per image, and whether its largest output was shared (see tiedRows). */
export interface Predictions {
  pred: Int32Array;
  tied: Uint8Array;
}

export function predictBatch(p: Predictor, x: Float64Array, n: number): Predictions {
  const y = outputsBatch(p, x, n);
  return { pred: argmaxRows(y, n), tied: tiedRows(y, n) };
}

export interface PredictOptions {
  workers?: number;
  batch?: number;
  onProgress?: (done: number) => void;
}

/** Output rows (logits) of one batch: what the workers compute. */
export function outputsBatch(p: Predictor, x: Float64Array, n: number): Float64Array {
  return p.kind === 'float' ? runGraph(p.graph, x, n).output : runQGraph(p.q, x, n).output;
}

/** A batch's output rows and, for a float graph, the range of every tensor (calibration). */
export interface BatchResult {
  y: Float64Array;
  ranges?: [string, number, number][];
}
export function batchResult(p: Predictor, x: Float64Array, n: number, ranges: boolean): BatchResult {
  if (!ranges || p.kind !== 'float') return { y: outputsBatch(p, x, n) };
  const r = runGraph(p.graph, x, n, true);
  const stats = new Map<string, ValueStats>();
  mergeRanges(stats, r.values!);
  return { y: r.output, ranges: [...stats].map(([name, st]) => [name, st.min, st.max]) };
}

/**
 * Top-1 predictions for `count` images, on `workers` threads (chunks are handed out as workers
 * free up; the answer does not depend on the worker count).
 */
export async function predictAll(
  p: Predictor,
  data: Float64Array,
  count: number,
  per: number,
  o: PredictOptions = {},
): Promise<Predictions> {
  const y = await outputsAll(p, data, count, per, o);
  return { pred: argmaxRows(y, count), tied: tiedRows(y, count) };
}

/**
 * The output rows of `count` images, in image order, on `workers` threads. Each image's row is
 * computed on its own (no cross-image arithmetic), so the result is the same on any worker count.
 */
export async function outputsAll(
  p: Predictor,
  data: Float64Array,
  count: number,
  per: number,
  o: PredictOptions = {},
): Promise<Float64Array> {
  return (await runAll(p, data, count, per, false, o)).y;
}

/**
 * The float network's outputs on `count` images and the range of every tensor over them (what
 * quant/calibrate.ts computes), in one pass on `workers` threads. Ranges merge by min and max, so
 * they too are the same on any worker count.
 */
export async function calibrateAll(
  g: Graph,
  data: Float64Array,
  count: number,
  per: number,
  o: PredictOptions = {},
): Promise<{ y: Float64Array; stats: Map<string, ValueStats> }> {
  const r = await runAll({ kind: 'float', graph: g }, data, count, per, true, o);
  return { y: r.y, stats: r.stats! };
}

async function runAll(
  p: Predictor,
  data: Float64Array,
  count: number,
  per: number,
  ranges: boolean,
  o: PredictOptions,
): Promise<{ y: Float64Array; stats?: Map<string, ValueStats> }> {
  const batch = o.batch ?? 32;
  const chunks = Math.ceil(count / batch);
  const workers = Math.max(1, Math.min(o.workers ?? 1, chunks));
  let out: Float64Array | null = null;
  const stats = ranges ? new Map<string, ValueStats>() : undefined;
  const place = (r: BatchResult, s: number, n: number) => {
    out ??= new Float64Array((r.y.length / n) * count);
    out.set(r.y, (s * r.y.length) / n);
    if (stats) for (const [name, lo, hi] of r.ranges!) mergeRange(stats, name, lo, hi);
  };
  const result = () => ({ y: out ?? new Float64Array(0), stats });
  let done = 0;
  if (workers === 1) {
    for (let s = 0; s < count; s += batch) {
      const n = Math.min(batch, count - s);
      place(batchResult(p, data.subarray(s * per, (s + n) * per), n, ranges), s, n);
      o.onProgress?.((done += n));
    }
    return result();
  }
  const rows = (k: number) => Math.min(batch, count - k * batch);
  const rs = await runOnWorkers<{ x: Float64Array<ArrayBuffer>; n: number; ranges: boolean }, BatchResult>(
    workerScript(import.meta.url, 'predict-worker'),
    workers,
    chunks,
    (k) => {
      const s = k * batch,
        n = rows(k);
      return { x: data.slice(s * per, (s + n) * per), n, ranges };
    },
    { workerData: () => p, transfer: (j) => [j.x.buffer], onResult: (k) => o.onProgress?.((done += rows(k))) },
  );
  // Placed in chunk order once all are in, so not even the ranges' merge order depends on timing.
  rs.forEach((r, k) => place(r, k * batch, rows(k)));
  return result();
}
