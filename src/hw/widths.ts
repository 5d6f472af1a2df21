import { maxInt, minInt, signedBitsForRange } from '../fixed/format.js';
import type { AddEngine, LinearEngine, PoolEngine } from './plan.js';
import { clog2 } from './verilog.js';

/**
 * Datapath widths and memory shapes of each engine, as the templates build them. The renderer
 * writes them into the Verilog and the resource estimator counts them, so both see one design.
 */

export interface LinearWidths {
  /** Product: weight x input, the input sign-extended by one bit when unsigned. */
  pW: number;
  /** Adder tree of the SIMD products: capped at the accumulator (modular, exact because the sum fits). */
  treeW: number;
  /** Accumulator: the exact bound, at least a product. */
  accW: number;
  /** Weight ROM: one word per (group, tap) holding pe x simd weights. */
  wDepth: number; wWidth: number;
  /** Bias ROM: one word per group holding pe aligned biases. */
  bDepth: number; bWidth: number;
}

export function linearWidths(e: LinearEngine): LinearWidths {
  const wW = e.weightFormat.wl;
  const pW = wW + e.inFormat.wl + (e.inFormat.signed ? 0 : 1);
  // The tree and accumulator may wrap modulo 2^width: two's complement addition is exact modulo
  // the width, and the final accumulator value fits (quant/accumulator.ts), so it comes out exact.
  const accW = Math.max(e.acc.bits, pW);
  const treeW = e.simd === 1 ? pW : Math.min(accW, pW + clog2(e.simd));
  const groups = e.cout / e.pe;
  return { pW, treeW, accW, wDepth: groups * e.k, wWidth: e.pe * e.simd * wW, bDepth: groups, bWidth: e.pe * accW };
}

export interface PoolWidths {
  /** Average: window sum, reciprocal and product widths (0 for max pooling). */
  sumW: number; rW: number; accW: number;
  /** Border windows with their own reciprocal (a count register and a case table). */
  countVaries: boolean;
}

export function poolWidths(e: PoolEngine): PoolWidths {
  if (e.mode === 'max') return { sumW: 0, rW: 0, accW: 0, countVaries: false };
  const full = e.win.kh * e.win.kw;
  const sumW = signedBitsForRange(minInt(e.inFormat) * full, maxInt(e.inFormat) * full);
  const rW = clog2(Math.max(...e.recips.map((r) => r.r)) + 1);
  return { sumW, rW, accW: sumW + rW + 1, countVaries: e.recips.length > 1 };
}

export interface AddWidths {
  /** Left shifts aligning each operand to the accumulator's fraction length, and the sum's width. */
  ka: number; kb: number; accW: number;
}

export function addWidths(e: AddEngine): AddWidths {
  const F = e.acc.fl;
  const ka = F - e.aFormat.fl, kb = F - e.bFormat.fl;
  const aw = e.aFormat.wl + (e.aFormat.signed ? 0 : 1) + ka, bw = e.bFormat.wl + (e.bFormat.signed ? 0 : 1) + kb;
  return { ka, kb, accW: Math.max(e.acc.bits, aw, bw) };
}
