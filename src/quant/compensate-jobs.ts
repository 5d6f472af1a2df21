import type { Graph } from '../ir/types.js';
import { blockFactor } from './factor.js';
import { accumulateHessians, type HessianTarget, type LayerStats } from './hessian.js';

/** A unit of the compensation statistics' work, run on any thread (quant/compensate.ts). */
export type CompJob =
  /** H of every target on one part of the search images. */
  | { kind: 'stats'; graph: Graph; targets: HessianTarget[]; images: Float64Array; count: number; batch: number }
  /** The factorisation of one block's H (packed lower triangle). */
  | { kind: 'factor'; h: Float64Array; n: number };
export type CompResult = { kind: 'stats'; stats: [string, LayerStats][] } | { kind: 'factor'; perm: Int32Array; u: Float64Array };

export function runCompJob(j: CompJob): CompResult {
  if (j.kind === 'stats') return { kind: 'stats', stats: [...accumulateHessians(j.graph, j.targets, j.images, j.count, j.batch)] };
  return { kind: 'factor', ...blockFactor(j.h, j.n) };
}

/** Buffers a result hands over without a copy. */
export function resultBuffers(r: CompResult): ArrayBuffer[] {
  if (r.kind === 'stats') return r.stats.flatMap(([, s]) => [...s.hs, ...(s.full?.hs ?? [])].map((h) => h.buffer as ArrayBuffer));
  // U is in shared memory (factor.ts): posted, it is shared, not moved.
  return [r.perm.buffer, r.u.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}
