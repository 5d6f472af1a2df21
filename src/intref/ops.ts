import { type FxFormat, quantizeArray, requantizeArray } from '../fixed/format.js';
import type { ConvOp, DenseOp } from '../ir/types.js';
import { poolOutHW } from '../ir/shapes.js';
import * as K from '../engine/kernels.js';
import { addAlignFl, biasShift, reciprocal } from '../quant/accumulator.js';
import type { Activation, QAdd, QAvgPool, QConv, QDense, QGap } from '../quant/qgraph.js';

/**
 * Integer-only layer operations. Tensors are integers held in Float64Array: every value, product
 * and partial sum is an integer whose magnitude the accumulator bound (quant/accumulator.ts) keeps
 * below 2^53, so each multiply, add and power-of-two scaling is exact integer arithmetic. Rounding
 * and saturation come only from fixed/format.ts.
 *
 * Average pooling: y = requantize(S * R, fl_in + r, out) with S the integer window sum, r the
 * reciprocal bits and R = round_half_up(2^r / count). When count is a power of two R is exact and
 * this is a plain rounding shift; otherwise R / 2^r differs from 1/count by at most 2^-(r+1), so
 * before the final rounding the result differs from the exact mean by at most |S| * 2^-(r+1)
 * LSBs of the input format (for r = 16 and |S| < 2^15 LSBs: below half an LSB).
 */

/** Integer clamp of a fused activation (before saturation to the output format). */
export const actBounds = (a: Activation): [number, number] =>
  a.kind === 'relu' ? [0, Infinity] : a.kind === 'clip' ? [a.lo, a.hi] : [-Infinity, Infinity];

function requantizeAll(acc: Float64Array, accFl: number, out: FxFormat, act: Activation): Float64Array {
  const [lo, hi] = actBounds(act);
  return requantizeArray(acc, accFl, out, lo, hi);
}

/** Integer weights as exact float64 GEMM operands, the bias pre-aligned to the accumulator. */
const asFloat = new WeakMap<QConv | QDense, ConvOp | DenseOp>();
function floatTwin(op: QConv | QDense, inF: FxFormat): ConvOp | DenseOp {
  let t = asFloat.get(op);
  if (!t) {
    const shift = 2 ** biasShift(op.biasFormat, op.weightFormat.fl + inF.fl);
    const weight = { shape: op.weight.shape, data: Float64Array.from(op.weight.data) };
    const bias = Float64Array.from(op.bias, (b) => b * shift);
    t = op.kind === 'conv'
      ? { kind: 'conv', weight, bias, strides: op.strides, pads: op.pads, dilations: op.dilations, group: op.group }
      : { kind: 'dense', weight, bias };
    asFloat.set(op, t);
  }
  return t;
}

export function conv(op: QConv, x: Float64Array, batch: number, inShape: number[], inF: FxFormat, out: FxFormat, scratch: K.Scratch): Float64Array {
  const acc = K.conv(floatTwin(op, inF) as ConvOp, x, batch, inShape, scratch);
  return requantizeAll(acc, op.weightFormat.fl + inF.fl, out, op.act);
}

export function dense(op: QDense, x: Float64Array, batch: number, inF: FxFormat, out: FxFormat): Float64Array {
  const acc = K.dense(floatTwin(op, inF) as DenseOp, x, batch);
  return requantizeAll(acc, op.weightFormat.fl + inF.fl, out, op.act);
}

export function add(op: QAdd, a: Float64Array, b: Float64Array, fa: FxFormat, fb: FxFormat, out: FxFormat): Float64Array {
  const fl = addAlignFl(fa, fb);
  const ka = 2 ** (fl - fa.fl), kb = 2 ** (fl - fb.fl);
  const acc = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) acc[i] = a[i] * ka + b[i] * kb;
  return requantizeAll(acc, fl, out, op.act);
}

export function avgpool(op: QAvgPool, x: Float64Array, batch: number, inShape: number[], inF: FxFormat, out: FxFormat): Float64Array {
  const [c, h, w] = inShape;
  const [ho, wo] = poolOutHW(h, w, op);
  const y = new Float64Array(batch * c * ho * wo);
  const [kh, kw] = op.kernel, [dh, dw] = op.dilations;
  const accFl = inF.fl + op.recipBits;
  const recip = new Float64Array(kh * kw + 1);
  for (let c = 1; c <= kh * kw; c++) recip[c] = reciprocal(c, op.recipBits);
  let o = 0;
  for (let nc = 0; nc < batch * c; nc++) {
    const base = nc * h * w;
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++, o++) {
        const iy0 = oy * op.strides[0] - op.pads[0], ix0 = ox * op.strides[1] - op.pads[1];
        let s = 0, cnt = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = iy0 + ky * dh;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ix0 + kx * dw;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) { if (op.countIncludePad) cnt++; continue; }
            s += x[base + iy * w + ix];
            cnt++;
          }
        }
        y[o] = s * recip[cnt];
      }
    }
  }
  return requantizeArray(y, accFl, out);
}

export function gap(op: QGap, x: Float64Array, batch: number, inShape: number[], inF: FxFormat, out: FxFormat): Float64Array {
  const hw = inShape[1] * inShape[2];
  const r = reciprocal(hw, op.recipBits);
  const y = new Float64Array(batch * inShape[0]);
  for (let i = 0; i < y.length; i++) {
    let s = 0;
    for (let j = 0; j < hw; j++) s += x[i * hw + j];
    y[i] = s * r;
  }
  return requantizeArray(y, inF.fl + op.recipBits, out);
}

export function quantizeInput(x: ArrayLike<number>, f: FxFormat): Float64Array {
  return quantizeArray(x, f) as Float64Array;
}
