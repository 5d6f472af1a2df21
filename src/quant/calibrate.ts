import { runGraph } from '../engine/run.js';
import type { Images } from '../io/dataset.js';
import type { Graph } from '../ir/types.js';
import { size } from '../ir/types.js';

export interface ValueStats { min: number; max: number; maxAbs: number }

/** Range of every tensor of the float network over calibration images. */
export function calibrate(g: Graph, imgs: Images, opts: { batch?: number; onProgress?: (done: number) => void } = {}): Map<string, ValueStats> {
  const batch = opts.batch ?? 64;
  const per = size(g.input.shape);
  const stats = new Map<string, ValueStats>();
  for (let s = 0; s < imgs.count; s += batch) {
    const n = Math.min(batch, imgs.count - s);
    const { values } = runGraph(g, imgs.data.subarray(s * per, (s + n) * per), n, true);
    for (const [name, v] of values!) {
      const st = stats.get(name) ?? { min: Infinity, max: -Infinity, maxAbs: 0 };
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (x < st.min) st.min = x;
        if (x > st.max) st.max = x;
      }
      st.maxAbs = Math.max(Math.abs(st.min), Math.abs(st.max));
      stats.set(name, st);
    }
    opts.onProgress?.(s + n);
  }
  return stats;
}

export function maxAbsOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
