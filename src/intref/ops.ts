import { type FxFormat, maxInt, minInt, quantizeArray, requantBounds, requantizeArray, requantizeSum } from '../fixed/format.js';
import type { ConvOp, DenseOp } from '../ir/types.js';
import { convOutHW, poolOutHW } from '../ir/geometry.js';
import {
  addResident,
  convIntWasm,
  convPatches,
  convResident,
  type IntRequant,
  maxpoolResident,
  packIntWeights,
  type PackedInt,
  type Resident,
  tapMajor,
  wasmAvailable,
} from '../engine/gemm.js';
import * as K from '../engine/kernels.js';
import { addAlignFl, biasShift, linearAccRange, reciprocal } from '../quant/accumulator.js';
import type { Activation, QAdd, QAvgPool, QConv, QDense, QGap, QMaxPool } from '../quant/qgraph.js';

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

/**
 * Integer weights as exact float64 GEMM operands, the bias pre-aligned to the accumulator. Kept
 * with the layer when small; a large layer's (a 16-bit ResNet-18 holds 90 MB of them per graph,
 * and the search keeps two graphs per worker) is converted again at each call, which costs one
 * pass over the weights against the GEMM's pass per output position and image.
 */
const asFloat = new WeakMap<QConv | QDense, ConvOp | DenseOp>();
const KEEP_TWIN = 1 << 18;
function floatTwin(op: QConv | QDense, inF: FxFormat): ConvOp | DenseOp {
  let t = asFloat.get(op);
  if (!t) {
    const shift = 2 ** biasShift(op.biasFormat, op.weightFormat.fl + inF.fl);
    const weight = { shape: op.weight.shape, data: Float64Array.from(op.weight.data) };
    const bias = Float64Array.from(op.bias, (b) => b * shift);
    t =
      op.kind === 'conv'
        ? { kind: 'conv', weight, bias, strides: op.strides, pads: op.pads, dilations: op.dilations, group: op.group }
        : { kind: 'dense', weight, bias };
    if (op.weight.data.length <= KEEP_TWIN) asFloat.set(op, t);
  }
  return t;
}

/**
 * The int32 form of a convolution or dense layer when it is exact and the WebAssembly kernels are
 * there: ungrouped, every accumulator (bias included) within 32 signed bits (quant/accumulator.ts
 * gives the exact extremes), inputs, bounds and the aligned bias in int32. `narrow`: weights and
 * inputs fit int16, so pairs of taps go through one 16-bit dot product. The choice depends only on
 * the formats and the weights, never on the data. Cached per quantized weight tensor and formats,
 * as the search rebuilds graphs from the same cached integers; the packed weights are built on
 * first use.
 */
export interface IntForm {
  rq: IntRequant;
  narrow: boolean;
  packed: Map<string, PackedInt>;
}
const intForms = new WeakMap<Int32Array, Map<string, IntForm | null>>();
const INT32 = 2 ** 31;
/** What the int32 form of a layer depends on, compared field by field (formats may be edited in place). */
const formSig = (op: QConv | QDense, inF: FxFormat, out: FxFormat): unknown[] => {
  const [lo, hi] = actBounds(op.act);
  return [
    op.weight.data,
    op.bias,
    op.kind === 'conv' ? op.group : 1,
    lo,
    hi,
    ...[op.weightFormat, op.biasFormat, inF, out].flatMap((f) => [f.wl, f.fl, f.signed]),
  ];
};
const lastForm = new WeakMap<QConv | QDense, { sig: unknown[]; f: IntForm | null }>();
export function intForm(op: QConv | QDense, inF: FxFormat, out: FxFormat): IntForm | null {
  // The float64 path alone, for timing the two against each other (bench/intref.ts).
  if (process.env.FXPQ_INTREF_F64 === '1' || !wasmAvailable()) return null;
  // The same layer with the same formats as last time (every batch of a run): no key to build.
  const sig = formSig(op, inF, out);
  const last = lastForm.get(op);
  if (last && last.sig.length === sig.length && last.sig.every((v, i) => v === sig[i])) return last.f;
  const f = formFor(op, inF, out);
  lastForm.set(op, { sig, f });
  return f;
}

function formFor(op: QConv | QDense, inF: FxFormat, out: FxFormat): IntForm | null {
  let m = intForms.get(op.weight.data);
  if (!m) {
    m = new Map();
    intForms.set(op.weight.data, m);
  }
  const [lo, hi] = actBounds(op.act);
  const key = JSON.stringify([
    op.kind,
    op.weight.shape,
    op.bias.length,
    op.kind === 'conv' ? op.group : 1,
    op.weightFormat,
    op.biasFormat,
    inF,
    out,
    lo,
    hi,
  ]);
  let f = m.get(key);
  if (f === undefined) {
    f = null;
    const accFl = op.weightFormat.fl + inF.fl;
    const shift = accFl - out.fl;
    const [a, b] = requantBounds(out, lo, hi);
    const fits = (v: number) => v >= -INT32 && v < INT32;
    const group = op.kind === 'conv' ? op.group : 1;
    if (group === 1 && fits(minInt(inF)) && fits(maxInt(inF)) && fits(a) && fits(b) && shift >= -31 && shift <= 62) {
      const range = linearAccRange(op, inF);
      if (range.bits <= 32) {
        const int16 = (v: number) => v >= -32768 && v <= 32767;
        const narrow = int16(minInt(op.weightFormat)) && int16(maxInt(op.weightFormat)) && int16(minInt(inF)) && int16(maxInt(inF));
        const lanes =
          shift > 0 ? shift <= 31 && range.hi + 2 ** (shift - 1) < INT32 : fits(range.lo * 2 ** -shift) && fits(range.hi * 2 ** -shift);
        f = { rq: { shift, lo: a, hi: b, lanes }, narrow, packed: new Map() };
      }
    }
    m.set(key, f);
  }
  return f;
}

/**
 * The packed weights of an int32 form, built once per input geometry: a convolution's own, or a
 * dense layer's as a cin x kh x kw kernel over its input [cin][kh][kw] (flattened in that order).
 */
function packed(f: IntForm, op: QConv | QDense, inF: FxFormat, cin: number, kh: number, kw: number, patches = false): PackedInt {
  const key = `${cin},${kh},${kw}${patches ? ',patches' : ''}`;
  let p = f.packed.get(key);
  if (!p) {
    const k = 2 ** biasShift(op.biasFormat, op.weightFormat.fl + inF.fl);
    const bias = Int32Array.from(op.bias, (v) => v * k);
    p = patches
      ? packIntWeights(tapMajor(op.weight.data, op.bias.length, cin, kh * kw), bias, kh * kw * cin, 1, 1, f.narrow)
      : packIntWeights(op.weight.data, bias, cin, kh, kw, f.narrow);
    f.packed.set(key, p);
  }
  return p;
}

const geometry = (op: QConv, h: number, w: number) => {
  const [, , kh, kw] = op.weight.shape;
  const [ho, wo] = convOutHW(h, w, [kh, kw], op.strides, op.pads, op.dilations);
  return {
    h,
    w,
    kh,
    kw,
    ho,
    wo,
    sh: op.strides[0],
    sw: op.strides[1],
    pt: op.pads[0],
    pl: op.pads[1],
    dh: op.dilations[0],
    dw: op.dilations[1],
  };
};

export function conv(
  op: QConv,
  x: Float64Array,
  batch: number,
  inShape: number[],
  inF: FxFormat,
  out: FxFormat,
  scratch: K.Scratch,
): Float64Array {
  const f = intForm(op, inF, out);
  if (f) {
    const [cin, h, w] = inShape;
    const g = geometry(op, h, w);
    const y = new Float64Array(batch * op.bias.length * g.ho * g.wo);
    convIntWasm(batch, x, g, packed(f, op, inF, cin, g.kh, g.kw), f.rq, y, 0);
    return y;
  }
  const acc = K.conv(floatTwin(op, inF) as ConvOp, x, batch, inShape, scratch);
  return requantizeAll(acc, op.weightFormat.fl + inF.fl, out, op.act);
}

const DENSE = { h: 1, w: 1, kh: 1, kw: 1, ho: 1, wo: 1, sh: 1, sw: 1, pt: 0, pl: 0, dh: 1, dw: 1 };

export function dense(op: QDense, x: Float64Array, batch: number, inF: FxFormat, out: FxFormat): Float64Array {
  const f = intForm(op, inF, out);
  if (f) {
    const y = new Float64Array(batch * op.bias.length);
    convIntWasm(batch, x, DENSE, packed(f, op, inF, op.weight.shape[1], 1, 1), f.rq, y, 0);
    return y;
  }
  const acc = K.dense(floatTwin(op, inF) as DenseOp, x, batch);
  return requantizeAll(acc, op.weightFormat.fl + inF.fl, out, op.act);
}

// ---- The same layers on resident tensors (engine/gemm.ts): integers kept channel-last in the
// integer kernels' memory from one layer to the next. Each returns null where it does not apply
// (the caller then converts to float64 and uses the functions above): the choice depends only on
// formats, shapes and weights, never on the data.

/** Bytes per integer of a resident tensor of format f: 2 where it fits int16, 4 where int32, else null. */
export function residentBytes(f: FxFormat): 2 | 4 | null {
  const lo = minInt(f),
    hi = maxInt(f);
  return lo >= -32768 && hi <= 32767 ? 2 : lo >= -INT32 && hi < INT32 ? 4 : null;
}

export function convResidentOp(op: QConv, x: Resident, inF: FxFormat, out: FxFormat): Resident | null {
  const f = intForm(op, inF, out);
  const eo = residentBytes(out);
  if (!f || !eo || (f.narrow && x.es !== 2)) return null;
  const g = geometry(op, x.h, x.w);
  // Few input channels (the first layer of an image network): one word or two per tap would keep
  // the kernel in its loop overhead, so the taps become channels of a 1 x 1 convolution.
  if (g.kh * g.kw > 1 && x.c <= PATCH_CHANNELS) return convPatches(x, g, packed(f, op, inF, x.c, g.kh, g.kw, true), f.rq, eo);
  return convResident(x, g, packed(f, op, inF, x.c, g.kh, g.kw), f.rq, eo);
}
const PATCH_CHANNELS = 4;

/** A dense layer reading a resident [c][h][w] tensor (its flattened input) as one c x h x w kernel. */
export function denseResidentOp(op: QDense, x: Resident, inF: FxFormat, out: FxFormat): Resident | null {
  const f = intForm(op, inF, out);
  const eo = residentBytes(out);
  if (!f || !eo || (f.narrow && x.es !== 2) || x.c * x.h * x.w !== op.weight.shape[1]) return null;
  const g = { kh: x.h, kw: x.w, ho: 1, wo: 1, sh: 1, sw: 1, pt: 0, pl: 0, dh: 1, dw: 1 };
  return convResident(x, g, packed(f, op, inF, x.c, x.h, x.w), f.rq, eo);
}

/**
 * The residual add on resident tensors, where the aligned sum plus the rounding offset (or shifted
 * left) provably fits int32 and both operands and the result have the same element size: then
 * (a << sa) + (b << sb), shifted with rounding and clamped, is exactly what fixed/format.ts
 * requantizeSum computes in float64.
 */
export function addResidentOp(op: QAdd, a: Resident, b: Resident, fa: FxFormat, fb: FxFormat, out: FxFormat): Resident | null {
  if (a.es !== b.es || residentBytes(out) !== a.es || process.env.FXPQ_INTREF_F64 === '1') return null;
  const fl = addAlignFl(fa, fb);
  const sa = fl - fa.fl,
    sb = fl - fb.fl,
    s = fl - out.fl;
  const lo = minInt(fa) * 2 ** sa + minInt(fb) * 2 ** sb,
    hi = maxInt(fa) * 2 ** sa + maxInt(fb) * 2 ** sb;
  const fits = (v: number) => v >= -INT32 && v < INT32;
  const ok =
    sa <= 30 &&
    sb <= 30 &&
    fits(lo) &&
    fits(hi) &&
    (s > 0 ? s <= 31 && fits(hi + 2 ** (s - 1)) : s >= -31 && fits(lo * 2 ** -s) && fits(hi * 2 ** -s));
  if (!ok) return null;
  const [l, u] = requantBounds(out, ...actBounds(op.act));
  return addResident(a, b, sa, sb, s, l, u);
}

/** Max pooling of a resident tensor, unless some window lies entirely in padding (-Infinity there). */
export function maxpoolResidentOp(op: QMaxPool, x: Resident): Resident | null {
  if (process.env.FXPQ_INTREF_F64 === '1') return null;
  const [ho, wo] = poolOutHW(x.h, x.w, op);
  const [kh, kw] = op.kernel,
    [sh, sw] = op.strides,
    [pt, pl] = op.pads,
    [dh, dw] = op.dilations;
  const some = (n: number, k: number, s: number, p: number, d: number, size: number) => {
    const [a, b] = windows(n, s, p, k, d, size);
    return a.every((v, o) => v < b[o]);
  };
  if (!some(ho, kh, sh, pt, dh, x.h) || !some(wo, kw, sw, pl, dw, x.w)) return null;
  return maxpoolResident(x, { kh, kw, ho, wo, sh, sw, pt, pl, dh, dw });
}

export function add(op: QAdd, a: Float64Array, b: Float64Array, fa: FxFormat, fb: FxFormat, out: FxFormat): Float64Array {
  const fl = addAlignFl(fa, fb);
  const ka = 2 ** (fl - fa.fl),
    kb = 2 ** (fl - fb.fl);
  const [lo, hi] = actBounds(op.act);
  return requantizeSum(a, ka, b, kb, fl, out, lo, hi);
}

/**
 * Max pooling of integers: the largest input inside each window (padding is not a value; a window
 * entirely in padding gives -Infinity), the result of engine/kernels.ts maxpool, with the valid
 * window rows and columns found once per output row and column instead of tested per tap.
 */
export function maxpool(op: QMaxPool, x: Float64Array, batch: number, inShape: number[]): Float64Array {
  const [c, h, w] = inShape;
  const [ho, wo] = poolOutHW(h, w, op);
  const [kh, kw] = op.kernel,
    [sh, sw] = op.strides,
    [pt, pl] = op.pads,
    [dh, dw] = op.dilations;
  const y = new Float64Array(batch * c * ho * wo);
  const [kx0, kx1] = windows(wo, sw, pl, kw, dw, w),
    [ky0a, ky1a] = windows(ho, sh, pt, kh, dh, h);
  let o = 0;
  for (let nc = 0; nc < batch * c; nc++) {
    const base = nc * h * w;
    for (let oy = 0; oy < ho; oy++) {
      const iy0 = oy * sh - pt,
        ky0 = ky0a[oy],
        ky1 = ky1a[oy];
      for (let ox = 0; ox < wo; ox++, o++) {
        const ix0 = ox * sw - pl,
          a = kx0[ox],
          b = kx1[ox];
        let m = -Infinity;
        for (let ky = ky0; ky < ky1; ky++) {
          const row = base + (iy0 + ky * dh) * w + ix0;
          for (let kx = a; kx < b; kx++) {
            const v = x[row + kx * dw];
            if (v > m) m = v;
          }
        }
        y[o] = m;
      }
    }
  }
  return y;
}

export function avgpool(op: QAvgPool, x: Float64Array, batch: number, inShape: number[], inF: FxFormat, out: FxFormat): Float64Array {
  const [c, h, w] = inShape;
  const [ho, wo] = poolOutHW(h, w, op);
  const y = new Float64Array(batch * c * ho * wo);
  const [kh, kw] = op.kernel,
    [sh, sw] = op.strides,
    [pt, pl] = op.pads,
    [dh, dw] = op.dilations;
  const accFl = inF.fl + op.recipBits;
  const recip = new Float64Array(kh * kw + 1);
  for (let c = 1; c <= kh * kw; c++) recip[c] = reciprocal(c, op.recipBits);
  // Valid taps of each output column and row (the count: every tap with countIncludePad, else
  // the valid ones; a window entirely in padding without it sums nothing times recip[0] = 0).
  const [kx0, kx1] = windows(wo, sw, pl, kw, dw, w),
    [ky0, ky1] = windows(ho, sh, pt, kh, dh, h);
  let o = 0;
  for (let nc = 0; nc < batch * c; nc++) {
    const base = nc * h * w;
    for (let oy = 0; oy < ho; oy++) {
      const iy0 = oy * sh - pt,
        ya = ky0[oy],
        yb = ky1[oy];
      for (let ox = 0; ox < wo; ox++, o++) {
        const ix0 = ox * sw - pl,
          xa = kx0[ox],
          xb = kx1[ox];
        let s = 0;
        for (let ky = ya; ky < yb; ky++) {
          const row = base + (iy0 + ky * dh) * w + ix0;
          for (let kx = xa; kx < xb; kx++) s += x[row + kx * dw];
        }
        y[o] = s * recip[op.countIncludePad ? kh * kw : (yb - ya) * (xb - xa)];
      }
    }
  }
  return requantizeArray(y, accFl, out);
}

/** For each of n outputs along one axis, the kernel taps [a[o], b[o]) that read inside [0, size). */
function windows(n: number, stride: number, pad: number, k: number, d: number, size: number): [Int32Array, Int32Array] {
  const a = new Int32Array(n),
    b = new Int32Array(n);
  for (let o = 0; o < n; o++) {
    let lo = 0,
      hi = k;
    while (lo < k && o * stride - pad + lo * d < 0) lo++;
    while (hi > lo && o * stride - pad + (hi - 1) * d >= size) hi--;
    a[o] = lo;
    b[o] = hi;
  }
  return [a, b];
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
