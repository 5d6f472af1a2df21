import { type FxFormat, maxInt, minInt, signedBitsForRange } from '../fixed/format.js';
import type { QConv, QDense } from './qgraph.js';

/** Exact extreme values the accumulator of one layer can take, and the register width that holds them. */
export interface AccRange {
  lo: number;
  hi: number;
  bits: number;
  /** Fraction length of the accumulator. */
  fl: number;
}

/** Left shift that aligns a bias of format b to an accumulator with fraction length accFl. */
export const biasShift = (b: FxFormat, accFl: number): number => accFl - b.fl;

/**
 * Accumulator range of a Conv/Dense layer: for output channel o,
 *   acc = b_o * 2^(accFl - fl_b) + sum_k w_ok * x_k,  x_k in [minInt(in), maxInt(in)],
 * so its extremes are b_o' + sum_k max(w_ok * minIn, w_ok * maxIn) and the same with min. These are
 * reached by an input that takes, at each tap, whichever end of its range matches the sign of the
 * weight, so the width derived here is the smallest that provably never overflows (padding zeros
 * only move the sum toward 0). Widths are per layer: the maximum over its channels.
 */
export function linearAccRange(op: Pick<QConv | QDense, 'weight' | 'bias' | 'weightFormat' | 'biasFormat'>, input: FxFormat): AccRange {
  const accFl = op.weightFormat.fl + input.fl;
  const mn = minInt(input),
    mx = maxInt(input);
  const shift = 2 ** biasShift(op.biasFormat, accFl);
  // mn <= 0 <= mx, so a positive weight is smallest against mn and largest against mx, a negative
  // one the other way round: per channel, the extremes are b' + P * mn + N * mx and b' + P * mx +
  // N * mn with P (N) the sum of its positive (negative) weights. Every term is an integer below
  // 2^53 whenever the width is, so this is the same exact value as summing per weight.
  const { pos, neg } = signedRowSums(op.weight.data, op.bias.length);
  let lo = 0,
    hi = 0;
  for (let o = 0; o < pos.length; o++) {
    const b = op.bias[o] * shift;
    lo = Math.min(lo, b + pos[o] * mn + neg[o] * mx);
    hi = Math.max(hi, b + pos[o] * mx + neg[o] * mn);
  }
  return { lo, hi, bits: signedBitsForRange(lo, hi), fl: accFl };
}

/**
 * Per output channel, the sums of the positive and of the negative weights, remembered per weight
 * array: the search asks for the bound of the same integers under many formats (they come from a
 * cache and are never written), and the sums depend on the integers alone.
 */
const rowSums = new WeakMap<Int32Array, { pos: Float64Array; neg: Float64Array }>();
function signedRowSums(w: Int32Array, outs: number): { pos: Float64Array; neg: Float64Array } {
  let r = rowSums.get(w);
  if (r && r.pos.length === outs) return r;
  const per = w.length / outs;
  r = { pos: new Float64Array(outs), neg: new Float64Array(outs) };
  for (let o = 0; o < outs; o++) {
    let p = 0,
      n = 0;
    for (let k = o * per, e = k + per; k < e; k++) {
      const v = w[k];
      if (v > 0) p += v;
      else n += v;
    }
    r.pos[o] = p;
    r.neg[o] = n;
  }
  rowSums.set(w, r);
  return r;
}

/** Fraction length both operands of a residual add are aligned to: the finer of the two. */
export const addAlignFl = (a: FxFormat, b: FxFormat): number => Math.max(a.fl, b.fl);

/** Accumulator range of a residual add: both operands aligned to the finer fraction length, summed. */
export function addAccRange(inF: FxFormat, bF: FxFormat): AccRange {
  const fl = addAlignFl(inF, bF);
  const ka = 2 ** (fl - inF.fl),
    kb = 2 ** (fl - bF.fl);
  const lo = minInt(inF) * ka + minInt(bF) * kb,
    hi = maxInt(inF) * ka + maxInt(bF) * kb;
  return { lo, hi, bits: signedBitsForRange(lo, hi), fl };
}

/**
 * Accumulator range of average pooling: the window sum of `count` inputs times the reciprocal;
 * border windows without padding in the count (`variable`) sum fewer values but use a larger one.
 */
export function poolAccRange(inF: FxFormat, count: number, recipBits: number, variable: boolean): AccRange {
  let m = count * reciprocal(count, recipBits);
  if (variable) for (let c = 1; c < count; c++) m = Math.max(m, c * reciprocal(c, recipBits));
  const lo = minInt(inF) * m,
    hi = maxInt(inF) * m;
  return { lo, hi, bits: signedBitsForRange(lo, hi), fl: inF.fl + recipBits };
}

/** R = round_half_up(2^bits / count): the fixed-point reciprocal used by average pooling. */
export function reciprocal(count: number, bits: number): number {
  return Math.floor((2 ** (bits + 1) / count + 1) / 2);
}
