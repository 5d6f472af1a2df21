import { convOutHW, poolOutHW } from '../ir/geometry.js';
import type { AvgPoolOp, ClipOp, ConvOp, DenseOp, MaxPoolOp, PadOp } from '../ir/types.js';
import { convGroupWasm, gemm } from './gemm.js';

/**
 * Float64 kernels over batched NCHW tensors. Each takes the input buffer, the batch and the
 * per-sample input shape, and returns a new output buffer.
 */

/** Weight layouts prepared once per op and reused across batches. */
const denseWT = new WeakMap<DenseOp, Float64Array>();

export function conv(op: ConvOp, x: Float64Array, batch: number, inShape: number[], scratch: Scratch): Float64Array {
  const [cin, h, w] = inShape;
  const [cout, cinG, kh, kw] = op.weight.shape;
  const [ho, wo] = convOutHW(h, w, [kh, kw], op.strides, op.pads, op.dilations);
  const hwo = ho * wo;
  const g = op.group;
  const coutG = cout / g;
  const K = cinG * kh * kw;
  const out = new Float64Array(batch * cout * hwo);
  const pointwise = kh === 1 && kw === 1 && op.strides[0] === 1 && op.strides[1] === 1 && op.pads.every((p) => p === 0);
  const col = pointwise ? undefined : scratch.get(K * hwo);
  const [sh, sw] = op.strides;
  const [dh, dw] = op.dilations;
  const [pt, pl] = op.pads;
  for (let n = 0; n < batch; n++) {
    for (let gi = 0; gi < g; gi++) {
      const xOff = (n * cin + gi * cinG) * h * w;
      const oOff = (n * cout + gi * coutG) * hwo;
      const wOff = gi * coutG * K;
      if (col === undefined) {
        gemm(coutG, hwo, K, op.weight.data, wOff, x, xOff, out, oOff, false);
      } else if (convGroupWasm(coutG, op.weight.data, wOff, x, xOff, { cinG, h, w, kh, kw, ho, wo, sh, sw, pt, pl, dh, dw }, out, oOff)) {
        // done in WebAssembly
      } else {
        im2col(x, xOff, cinG, h, w, kh, kw, ho, wo, sh, sw, pt, pl, dh, dw, col);
        gemm(coutG, hwo, K, op.weight.data, wOff, col, 0, out, oOff, false);
      }
      for (let o = 0; o < coutG; o++) {
        const b = op.bias[gi * coutG + o];
        if (b === 0) continue;
        const base = oOff + o * hwo;
        for (let j = 0; j < hwo; j++) out[base + j] += b;
      }
    }
  }
  return out;
}

/**
 * im2col: row (c, ky, kx), column (oy, ox); zero where the window reads padding. The range of
 * output columns whose input column is inside the image is computed once per row, so the inner
 * loop has no bounds checks.
 */
export function im2col(
  x: Float64Array,
  xOff: number,
  cinG: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  ho: number,
  wo: number,
  sh: number,
  sw: number,
  pt: number,
  pl: number,
  dh: number,
  dw: number,
  col: Float64Array,
): void {
  let r = 0;
  for (let c = 0; c < cinG; c++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, r++) {
        const rowOff = r * ho * wo;
        const dx = kx * dw - pl;
        // Valid ox: 0 <= ox*sw + dx < w.
        const oxLo = Math.min(wo, Math.max(0, Math.ceil(-dx / sw)));
        const oxHi = Math.max(oxLo, Math.min(wo, Math.floor((w - 1 - dx) / sw) + 1));
        for (let oy = 0; oy < ho; oy++) {
          const iy = oy * sh - pt + ky * dh;
          const dst = rowOff + oy * wo;
          if (iy < 0 || iy >= h) {
            col.fill(0, dst, dst + wo);
            continue;
          }
          const src = xOff + (c * h + iy) * w + dx;
          if (oxLo > 0) col.fill(0, dst, dst + oxLo);
          if (sw === 1) {
            for (let ox = oxLo; ox < oxHi; ox++) col[dst + ox] = x[src + ox];
          } else {
            for (let ox = oxLo; ox < oxHi; ox++) col[dst + ox] = x[src + ox * sw];
          }
          if (oxHi < wo) col.fill(0, dst + oxHi, dst + wo);
        }
      }
    }
  }
}

export function dense(op: DenseOp, x: Float64Array, batch: number): Float64Array {
  const [outF, inF] = op.weight.shape;
  let wt = denseWT.get(op);
  if (!wt) {
    wt = new Float64Array(inF * outF);
    for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) wt[i * outF + o] = op.weight.data[o * inF + i];
    denseWT.set(op, wt);
  }
  const out = new Float64Array(batch * outF);
  for (let n = 0; n < batch; n++) out.set(op.bias, n * outF);
  gemm(batch, outF, inF, x, 0, wt, 0, out, 0, true);
  return out;
}

export function relu(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : 0;
  return out;
}

export function clip(op: ClipOp, x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.min(op.max, Math.max(op.min, x[i]));
  return out;
}

export function add(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** Visits each pooling window: `emit(outIndex, inputBase, validOffsets)`. */
function forEachWindow(
  op: MaxPoolOp | AvgPoolOp,
  batch: number,
  inShape: number[],
  f: (o: number, xBase: number, iy0: number, ix0: number, oy: number, ox: number) => void,
): number {
  const [c, h, w] = inShape;
  const [ho, wo] = poolOutHW(h, w, op);
  let o = 0;
  for (let nc = 0; nc < batch * c; nc++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++, o++) f(o, nc * h * w, oy * op.strides[0] - op.pads[0], ox * op.strides[1] - op.pads[1], oy, ox);
    }
  }
  return o;
}

export function maxpool(op: MaxPoolOp, x: Float64Array, batch: number, inShape: number[]): Float64Array {
  const [c, h, w] = inShape;
  const [ho, wo] = poolOutHW(h, w, op);
  const out = new Float64Array(batch * c * ho * wo);
  const [kh, kw] = op.kernel,
    [dh, dw] = op.dilations;
  forEachWindow(op, batch, inShape, (o, base, iy0, ix0) => {
    let m = -Infinity;
    for (let ky = 0; ky < kh; ky++) {
      const iy = iy0 + ky * dh;
      if (iy < 0 || iy >= h) continue;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ix0 + kx * dw;
        if (ix < 0 || ix >= w) continue;
        const v = x[base + iy * w + ix];
        if (v > m) m = v;
      }
    }
    out[o] = m;
  });
  return out;
}

export function avgpool(op: AvgPoolOp, x: Float64Array, batch: number, inShape: number[]): Float64Array {
  const [c, h, w] = inShape;
  const [ho, wo] = poolOutHW(h, w, op);
  const out = new Float64Array(batch * c * ho * wo);
  const [kh, kw] = op.kernel,
    [dh, dw] = op.dilations;
  forEachWindow(op, batch, inShape, (o, base, iy0, ix0) => {
    let s = 0,
      cnt = 0;
    for (let ky = 0; ky < kh; ky++) {
      const iy = iy0 + ky * dh;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ix0 + kx * dw;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
          // Padded positions count only with count_include_pad (and only up to the padded border).
          if (op.countIncludePad && iy < h + op.pads[2] && ix < w + op.pads[3]) cnt++;
          continue;
        }
        s += x[base + iy * w + ix];
        cnt++;
      }
    }
    out[o] = s / cnt;
  });
  return out;
}

export function gap(x: Float64Array, batch: number, inShape: number[]): Float64Array {
  const [c, h, w] = inShape;
  const hw = h * w;
  const out = new Float64Array(batch * c);
  for (let i = 0; i < batch * c; i++) {
    let s = 0;
    for (let j = 0; j < hw; j++) s += x[i * hw + j];
    out[i] = s / hw;
  }
  return out;
}

export function pad(op: PadOp, x: Float64Array, batch: number, inShape: number[]): Float64Array {
  const [c, h, w] = inShape;
  const [pt, pl, pb, pr] = op.pads;
  const H = h + pt + pb,
    W = w + pl + pr;
  const out = new Float64Array(batch * c * H * W);
  for (let nc = 0; nc < batch * c; nc++) {
    for (let y = 0; y < h; y++) out.set(x.subarray((nc * h + y) * w, (nc * h + y + 1) * w), (nc * H + y + pt) * W + pl);
  }
  return out;
}

export function softmax(x: Float64Array, batch: number): Float64Array {
  const n = x.length / batch;
  const out = new Float64Array(x.length);
  for (let b = 0; b < batch; b++) {
    let m = -Infinity;
    for (let i = 0; i < n; i++) m = Math.max(m, x[b * n + i]);
    let s = 0;
    for (let i = 0; i < n; i++) {
      out[b * n + i] = Math.exp(x[b * n + i] - m);
      s += out[b * n + i];
    }
    for (let i = 0; i < n; i++) out[b * n + i] /= s;
  }
  return out;
}

/** A reusable work buffer (im2col columns), grown on demand. */
export class Scratch {
  private buf = new Float64Array(0);
  get(n: number): Float64Array {
    if (this.buf.length < n) this.buf = new Float64Array(n);
    return this.buf;
  }
}
