import { runGraph } from '../engine/run.js';
import { gemm } from '../engine/gemm.js';
import { convOutHW } from '../ir/geometry.js';
import { type Graph, size } from '../ir/types.js';
import type { FusedGraph } from './fuse.js';

/**
 * Input second moments H = sum x x^T of the conv/dense layers (quant/compensate.ts), on one thread.
 *
 * Only the lower triangle of each diagonal block of H is formed (H is symmetric), in square tiles
 * of about TILE inputs: one gemm per tile pair below the diagonal, over many input columns at once
 * (several images' im2col columns side by side), so the cost of moving a tile of H in and out of
 * the gemm kernel is spread over hundreds of columns instead of one image's. Every element is
 * still the sum of its products in image order, column order within an image, as the plain
 * per-image `gemm(block, block, columns)` formed it, so H comes out with the same bytes.
 */

/** What the accumulation needs to know of a layer (plain data: it is sent to worker threads). */
export interface HessianTarget {
  name: string;
  /** Float value feeding the layer. */
  input: string;
  /** Inputs per output. */
  n: number;
  /** Diagonal blocks of H (compensate.ts `blockRanges`). */
  ranges: [number, number][];
  /** Columns per image (conv: output positions; dense: 1). */
  cols: number;
  /** Images whose inputs are accumulated, from the first. */
  cap: number;
  /** When set, H is also wanted on the first `capFull` images (`LayerStats.full`). */
  capFull?: number;
  conv?: {
    cin: number;
    h: number;
    w: number;
    kh: number;
    kw: number;
    ho: number;
    wo: number;
    sh: number;
    sw: number;
    pt: number;
    pl: number;
    dh: number;
    dw: number;
  };
}

/** One layer's statistics: the lower triangle of each block of H, packed by rows (`packedIndex`). */
export interface LayerStats {
  n: number;
  images: number;
  hs: Float64Array[];
  /** H on the target's first `capFull` images, where that differs from `cap` (else it is `hs`). */
  full?: { images: number; hs: Float64Array[] };
}

/** Offset of element (i, j), j <= i, of a packed lower triangle. */
export const packedIndex = (i: number, j: number): number => (i * (i + 1)) / 2 + j;

/** Target tile edge of H's lower triangle (tile pairs are gemm calls). */
const TILE = 96;
/** Input columns per gemm call at most (whole images; keeps a tile's operands in cache). */
const CHUNK_COLS = 1024;

/** The conv/dense layers compensated (grouped convolutions keep nearest rounding), with their caps. */
export function hessianTargets(fg: FusedGraph, count: number, budget: number, ranges: (n: number) => [number, number][]): HessianTarget[] {
  const g = fg.graph;
  const out: HessianTarget[] = [];
  for (const l of fg.layers) {
    const op = l.op;
    if (!(op.kind === 'dense' || (op.kind === 'conv' && op.group === 1))) continue;
    const n = op.weight.data.length / op.weight.shape[0];
    const r = ranges(n);
    const cols = op.kind === 'dense' ? 1 : size(g.shapes[l.output]) / op.weight.shape[0];
    const perImage = r.reduce((acc, [a, b]) => acc + (b - a) * (b - a), 0) * cols;
    const t: HessianTarget = {
      name: l.name,
      input: l.inputs[0],
      n,
      ranges: r,
      cols,
      cap: Math.min(count, Math.max(32, Math.floor(budget / perImage))),
    };
    if (op.kind === 'conv') {
      const [cin, h, w] = g.shapes[l.inputs[0]];
      const [, , kh, kw] = op.weight.shape;
      const [ho, wo] = convOutHW(h, w, [kh, kw], op.strides, op.pads, op.dilations);
      t.conv = {
        cin,
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
    }
    out.push(t);
  }
  return out;
}

/** Near-equal tiles of [0, n). */
function tiles(n: number): [number, number][] {
  const k = Math.max(1, Math.ceil(n / TILE));
  return Array.from({ length: k }, (_, i) => [Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)]);
}

/**
 * X^T of the current chunk for the block being added, tile by tile (tile J is K x tJ row-major at
 * K * j0). One buffer for every block of the thread: one per block held about 300 MB on ResNet-18.
 */
const scratch = { xt: new Float64Array(0) };

/** One block's lower triangle as tiles (I, J <= I), each tI x tJ row-major in one buffer. */
class TiledBlock {
  readonly t: [number, number][];
  readonly off: number[][];
  readonly buf: Float64Array;

  constructor(
    readonly a: number,
    readonly sz: number,
  ) {
    this.t = tiles(sz);
    let o = 0;
    this.off = this.t.map(([i0, i1], I) =>
      this.t.slice(0, I + 1).map(([j0, j1]) => {
        const at = o;
        o += (i1 - i0) * (j1 - j0);
        return at;
      }),
    );
    this.buf = new Float64Array(o);
  }

  /** H += X X^T for rows [a, a + sz) of x (n x K row-major). */
  add(x: Float64Array, K: number): void {
    const { a, sz, t } = this;
    if (scratch.xt.length < K * sz) scratch.xt = new Float64Array(K * sz);
    const xt = scratch.xt;
    for (const [j0, j1] of t) {
      const tw = j1 - j0,
        base = K * j0;
      for (let c = 0; c < tw; c++) {
        const row = (a + j0 + c) * K;
        for (let k = 0; k < K; k++) xt[base + k * tw + c] = x[row + k];
      }
    }
    for (let I = 0; I < t.length; I++) {
      const [i0, i1] = t[I];
      for (let J = 0; J <= I; J++) {
        const [j0, j1] = t[J];
        gemm(i1 - i0, j1 - j0, K, x, (a + i0) * K, xt, K * j0, this.buf, this.off[I][J], true);
      }
    }
  }

  /** The lower triangle, packed by rows. */
  packed(): Float64Array {
    const { sz, t } = this;
    const out = new Float64Array((sz * (sz + 1)) / 2);
    for (let I = 0; I < t.length; I++) {
      const [i0, i1] = t[I];
      for (let i = i0; i < i1; i++) {
        for (let J = 0; J <= I; J++) {
          const [j0, j1] = t[J];
          const tw = j1 - j0,
            src = this.off[I][J] + (i - i0) * tw;
          const end = Math.min(j1, i + 1);
          out.set(this.buf.subarray(src, src + end - j0), packedIndex(i, j0));
        }
      }
    }
    return out;
  }
}

/**
 * H of every target on the first `count` images of `images` (each target on its first `cap`; and,
 * where `capFull` is set, also on its first `capFull`, as `full`), with one float forward pass per
 * `batch` images for all targets. Both sums come from one stream of additions: the one with fewer
 * images is a copy taken on the way, so each is the plain sum in image order.
 */
export function accumulateHessians(
  g: Graph,
  targets: HessianTarget[],
  images: Float64Array,
  count: number,
  batch = 32,
): Map<string, LayerStats> {
  const per = size(g.input.shape);
  const acc = targets.map((t) => {
    const end = Math.min(count, Math.max(t.cap, t.capFull ?? 0));
    // The copy is taken once `mid` images are in (none when both caps agree).
    const mid = t.capFull === undefined || t.capFull === t.cap ? -1 : Math.min(count, t.capFull, t.cap);
    return {
      t,
      end,
      mid,
      blocks: t.ranges.map(([a, b]) => new TiledBlock(a, b - a)),
      images: 0,
      copy: undefined as Float64Array[] | undefined,
    };
  });
  const need = Math.max(0, ...acc.map((a) => a.end));
  let x = new Float64Array(0);
  for (let s = 0; s < need; s += batch) {
    const nb = Math.min(batch, need - s);
    const { values } = runGraph(g, images.subarray(s * per, (s + nb) * per), nb, true);
    for (const a of acc) {
      const { t } = a;
      const b = Math.min(nb, a.end - s);
      if (b <= 0) continue;
      const v = values!.get(t.input);
      if (!v) throw new Error(`layer '${t.name}': float input '${t.input}' not found`);
      const n = t.n;
      // Images [lo, hi) of this batch.
      const add = (lo: number, hi: number) => {
        if (!t.conv) {
          const k = hi - lo;
          if (x.length < n * k) x = new Float64Array(n * k);
          for (let i = 0; i < k; i++) for (let r = 0; r < n; r++) x[r * k + i] = v[(lo + i) * n + r];
          for (const blk of a.blocks) blk.add(x, k);
          return;
        }
        const c = t.conv,
          hwo = c.ho * c.wo,
          inSize = c.cin * c.h * c.w;
        const step = Math.max(1, Math.floor(CHUNK_COLS / hwo));
        for (let i0 = lo; i0 < hi; i0 += step) {
          const ni = Math.min(step, hi - i0),
            K = ni * hwo;
          if (x.length < n * K) x = new Float64Array(n * K);
          for (let i = 0; i < ni; i++) im2colInto(v, (i0 + i) * inSize, c, x, i * hwo, K);
          for (const blk of a.blocks) blk.add(x, K);
        }
      };
      const snap = () => {
        if (a.images === a.mid && !a.copy) a.copy = a.blocks.map((blk) => blk.packed());
      };
      snap();
      const cut = a.mid > s && a.mid < s + b ? a.mid - s : b;
      add(0, cut);
      a.images += cut;
      snap();
      if (cut < b) {
        add(cut, b);
        a.images += b - cut;
      }
    }
  }
  return new Map(
    acc.map((a) => {
      const last = a.blocks.map((blk) => blk.packed());
      const { t } = a;
      if (a.mid < 0) return [t.name, { n: t.n, images: a.images, hs: last }];
      const fewer = a.copy ?? a.blocks.map((blk) => blk.packed());
      const [own, full] = (t.capFull ?? 0) < t.cap ? [last, fewer] : [fewer, last];
      return [t.name, { n: t.n, images: Math.min(a.images, t.cap), hs: own, full: { images: Math.min(a.images, t.capFull!), hs: full } }];
    }),
  );
}

/**
 * im2col of one image into columns [dOff, dOff + ho*wo) of `dst`, a matrix with row stride
 * `stride`: row (c, ky, kx), column (oy, ox), zero where the window reads padding (the values
 * of engine/kernels.ts `im2col`, placed side by side for several images).
 */
function im2colInto(
  x: Float64Array,
  xOff: number,
  g: NonNullable<HessianTarget['conv']>,
  dst: Float64Array,
  dOff: number,
  stride: number,
): void {
  const { cin, h, w, kh, kw, ho, wo, sh, sw, pt, pl, dh, dw } = g;
  let r = 0;
  for (let c = 0; c < cin; c++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, r++) {
        const rowOff = dOff + r * stride;
        const dx = kx * dw - pl;
        // Valid ox: 0 <= ox*sw + dx < w.
        const oxLo = Math.min(wo, Math.max(0, Math.ceil(-dx / sw)));
        const oxHi = Math.max(oxLo, Math.min(wo, Math.floor((w - 1 - dx) / sw) + 1));
        for (let oy = 0; oy < ho; oy++) {
          const iy = oy * sh - pt + ky * dh;
          const d = rowOff + oy * wo;
          if (iy < 0 || iy >= h) {
            dst.fill(0, d, d + wo);
            continue;
          }
          const src = xOff + (c * h + iy) * w + dx;
          if (oxLo > 0) dst.fill(0, d, d + oxLo);
          for (let ox = oxLo; ox < oxHi; ox++) dst[d + ox] = x[src + ox * sw];
          if (oxHi < wo) dst.fill(0, d + oxHi, d + wo);
        }
      }
    }
  }
}

/** A packed lower triangle as the full symmetric sz x sz matrix. */
export function packedToDense(p: Float64Array, sz: number): Float64Array {
  const h = new Float64Array(sz * sz);
  for (let i = 0; i < sz; i++) {
    const o = packedIndex(i, 0);
    for (let j = 0; j <= i; j++) {
      const v = p[o + j];
      h[i * sz + j] = v;
      h[j * sz + i] = v;
    }
  }
  return h;
}

/** The lower triangle of a (symmetric) sz x sz matrix, packed by rows. */
export function denseToPacked(h: Float64Array, sz: number): Float64Array {
  const p = new Float64Array((sz * (sz + 1)) / 2);
  for (let i = 0; i < sz; i++) p.set(h.subarray(i * sz, i * sz + i + 1), packedIndex(i, 0));
  return p;
}
