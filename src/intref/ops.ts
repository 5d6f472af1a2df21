import { type FxFormat, maxInt, minInt, quantizeArray, requantBounds, requantizeArray, requantizeSum } from '../fixed/format.js';
import type { ConvOp, DenseOp } from '../ir/types.js';
import { convOutHW, poolOutHW } from '../ir/shapes.js';
import { convIntWasm, type IntRequant, wasmAvailable } from '../engine/gemm.js';
import * as K from '../engine/kernels.js';
import { addAlignFl, biasShift, linearAccRange, reciprocal } from '../quant/accumulator.js';
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

/**
 * The int32 form of a convolution when it is exact and the WebAssembly kernels are there:
 * ungrouped, every accumulator (bias included) within 32 signed bits (quant/accumulator.ts gives
 * the exact extremes), inputs, bounds and the aligned bias in int32. Cached per quantized weight tensor and formats, as the search rebuilds
 * graphs from the same cached integers.
 */
interface IntForm { bias: Int32Array; rq: IntRequant; narrow: boolean }
const intForms = new WeakMap<Int32Array, Map<string, IntForm | null>>();
const INT32 = 2 ** 31;
const INT_IMAGES = 8;
export function intForm(op: QConv, inF: FxFormat, out: FxFormat): IntForm | null {
  // The float64 path alone, for timing the two against each other (bench/intref.ts).
  if (process.env.FXPQ_INTREF_F64 === '1' || !wasmAvailable()) return null;
  let m = intForms.get(op.weight.data);
  if (!m) { m = new Map(); intForms.set(op.weight.data, m); }
  const [lo, hi] = actBounds(op.act);
  const key = JSON.stringify([op.bias.length, op.group, op.weightFormat, op.biasFormat, inF, out, lo, hi]);
  let f = m.get(key);
  if (f === undefined) {
    f = null;
    const accFl = op.weightFormat.fl + inF.fl;
    const shift = accFl - out.fl;
    const [a, b] = requantBounds(out, lo, hi);
    const fits = (v: number) => v >= -INT32 && v < INT32;
    const range = linearAccRange(op, inF);
    if (op.group === 1 && fits(minInt(inF)) && fits(maxInt(inF)) && fits(a) && fits(b) && shift >= -31 && shift <= 62 && range.bits <= 32) {
      const k = 2 ** biasShift(op.biasFormat, accFl);
      const int16 = (v: number) => v >= -32768 && v <= 32767;
      const narrow = int16(minInt(op.weightFormat)) && int16(maxInt(op.weightFormat)) && int16(minInt(inF)) && int16(maxInt(inF));
      const lanes = shift > 0 ? shift <= 31 && range.hi + 2 ** (shift - 1) < INT32 : fits(range.lo * 2 ** -shift) && fits(range.hi * 2 ** -shift);
      f = { bias: Int32Array.from(op.bias, (v) => v * k), rq: { shift, lo: a, hi: b, lanes }, narrow };
    }
    m.set(key, f);
  }
  return f;
}

export function conv(op: QConv, x: Float64Array, batch: number, inShape: number[], inF: FxFormat, out: FxFormat, scratch: K.Scratch): Float64Array {
  const f = intForm(op, inF, out);
  if (f) {
    const [cin, h, w] = inShape;
    const [, , kh, kw] = op.weight.shape;
    const [ho, wo] = convOutHW(h, w, [kh, kw], op.strides, op.pads, op.dilations);
    const g = { h, w, kh, kw, ho, wo, sh: op.strides[0], sw: op.strides[1], pt: op.pads[0], pl: op.pads[1], dh: op.dilations[0], dw: op.dilations[1] };
    const xn = cin * h * w, yn = op.bias.length * ho * wo;
    const y = new Float64Array(batch * yn);
    // A few images per call, so what is copied into and out of WebAssembly memory stays in cache.
    for (let s = 0; s < batch; s += INT_IMAGES) {
      const n = Math.min(INT_IMAGES, batch - s);
      convIntWasm(n, x.subarray(s * xn, (s + n) * xn), cin, g, op.weight.data, f.bias, f.rq, f.narrow, y, s * yn);
    }
    return y;
  }
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
  const [lo, hi] = actBounds(op.act);
  return requantizeSum(a, ka, b, kb, fl, out, lo, hi);
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
