import { runGraph } from '../engine/run.js';
import type { Graph } from '../ir/types.js';
import { size } from '../ir/types.js';

export interface ValueStats {
  min: number;
  max: number;
  maxAbs: number;
}

/** Range of each tensor of one batch, merged into `stats` (min and max: any order gives the same). */
export function mergeRanges(stats: Map<string, ValueStats>, values: Iterable<[string, ArrayLike<number>]>): void {
  for (const [name, v] of values) {
    let lo = Infinity,
      hi = -Infinity;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    mergeRange(stats, name, lo, hi);
  }
}

export function mergeRange(stats: Map<string, ValueStats>, name: string, lo: number, hi: number): void {
  const st = stats.get(name) ?? { min: Infinity, max: -Infinity, maxAbs: 0 };
  if (lo < st.min) st.min = lo;
  if (hi > st.max) st.max = hi;
  st.maxAbs = Math.max(Math.abs(st.min), Math.abs(st.max));
  stats.set(name, st);
}

/** Range of every tensor of the float network over calibration images (io/dataset.ts Images fits). */
export function calibrate(
  g: Graph,
  imgs: { count: number; data: Float64Array },
  opts: { batch?: number; onProgress?: (done: number) => void } = {},
): Map<string, ValueStats> {
  const batch = opts.batch ?? 64;
  const per = size(g.input.shape);
  const stats = new Map<string, ValueStats>();
  for (let s = 0; s < imgs.count; s += batch) {
    const n = Math.min(batch, imgs.count - s);
    const { values } = runGraph(g, imgs.data.subarray(s * per, (s + n) * per), n, true);
    mergeRanges(stats, values!);
    opts.onProgress?.(s + n);
  }
  return stats;
}

export function maxAbsOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
