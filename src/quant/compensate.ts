import { runGraph } from '../engine/run.js';
import { gemm } from '../engine/gemm.js';
import { im2col } from '../engine/kernels.js';
import { type FxFormat, quantize } from '../fixed/format.js';
import { convOutHW } from '../ir/shapes.js';
import { size } from '../ir/types.js';
import type { FusedGraph, FusedLayer } from './fuse.js';

/**
 * Error-compensating weight rounding (the sequential scheme of OBQ/GPTQ, Frantar et al. 2022),
 * on dynamic fixed-point grids.
 *
 * Rounding each weight to the nearest grid point ignores that the layer's inputs are correlated:
 * the rounding errors of a row add up in the output. Rounding the weights of a row one at a time
 * and moving each rounding error onto the weights not yet rounded, weighted by the inverse of the
 * input second-moment matrix H = E[x x^T], keeps the output error E[(w - q)^T x]^2 much smaller
 * for the same word length. H comes from the float network's inputs to the layer on the search
 * images only (the validation images stay unseen), needs no labels and no retraining, and is fixed
 * for the whole search, so one factorisation per layer serves every format the search tries.
 */
export interface CompBlock {
  /** Columns of this block in the order they are rounded: largest second moment first (GPTQ's "act order"). */
  perm: Int32Array;
  /** Upper Cholesky factor U of the block's H^-1 in that order (H^-1 = U^T U), size x size row-major. */
  u: Float64Array;
}
export interface Compensation {
  /** Inputs per output (a row of the weight matrix). */
  n: number;
  /**
   * Consecutive input ranges, each compensated on its own (H taken block-diagonal): a layer with
   * thousands of inputs per output (ResNet-18's 3x3x512) would otherwise need a factorisation and
   * per-format work cubic and quadratic in that count.
   */
  blocks: CompBlock[];
}

/** Largest block of inputs compensated together (covers every layer of the zoo whole). */
export const MAX_BLOCK = 1024;

/** Relative damping added to H's diagonal, as in GPTQ: keeps the factorisation well conditioned. */
const DAMP = 0.01;

/** Lower Cholesky factor of a symmetric positive definite n x n matrix (in place into a new array). */
function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0)) throw new Error('matrix is not positive definite');
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      const ri = i * n, rj = j * n;
      for (let k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/** Inverse of a lower triangular matrix. */
function invLower(l: Float64Array, n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    m[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= l[i * n + k] * m[k * n + j];
      m[i * n + j] = s / l[i * n + i];
    }
  }
  return m;
}

/** Block ranges for n inputs: as few blocks as MAX_BLOCK allows, of near-equal size. */
export function blockRanges(n: number): [number, number][] {
  const k = Math.ceil(n / MAX_BLOCK);
  return Array.from({ length: k }, (_, i) => [Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)]);
}

/** Compensation from the diagonal blocks (per `blockRanges(n)`) of H, each given as its own matrix. */
export function compensationFromBlocks(hs: Float64Array[], n: number): Compensation {
  const ranges = blockRanges(n);
  return {
    n,
    blocks: ranges.map(([a, b], i) => {
      const c = blockFactor(hs[i], b - a);
      return { perm: c.perm.map((p) => p + a), u: c.u };
    }),
  };
}

/** Compensation from a whole n x n H (n <= MAX_BLOCK). */
export function compensationFromHessian(h: Float64Array, n: number): Compensation {
  if (n > MAX_BLOCK) throw new Error(`compensationFromHessian: ${n} inputs, at most ${MAX_BLOCK}`);
  return compensationFromBlocks([h], n);
}

/** U (upper) with H^-1 = U^T U, after damping and act-order permutation. */
function blockFactor(h: Float64Array, n: number): { perm: Int32Array; u: Float64Array } {
  const diag = Array.from({ length: n }, (_, i) => h[i * n + i]);
  const perm = Int32Array.from(diag.map((_, i) => i).sort((x, y) => diag[y] - diag[x] || x - y));
  let mean = 0;
  for (const d of diag) mean += d;
  mean /= n;
  const damp = DAMP * (mean > 0 ? mean : 1);
  const hp = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) hp[i * n + j] = h[perm[i] * n + perm[j]];
    // A dead input (never non-zero) gets a unit diagonal: its weight is then simply rounded.
    if (hp[i * n + i] === 0) hp[i * n + i] = 1;
    hp[i * n + i] += damp;
  }
  const linv = invLower(cholesky(hp, n), n);
  // H^-1 = L^-T L^-1.
  const hinv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += linv[k * n + i] * linv[k * n + j];
      hinv[i * n + j] = s;
      hinv[j * n + i] = s;
    }
  }
  const l2 = cholesky(hinv, n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) u[i * n + j] = l2[j * n + i];
  return { perm, u };
}

/**
 * Integer weights of format `f` for a weight matrix [rows, n] (a conv's [Cout, Cin*kh*kw] in
 * im2col order). Each element is rounded by the project's one rule (round half up, then saturate,
 * as `quantize`); only the values being rounded differ from plain rounding.
 */
export function compensatedQuantize(w: Float64Array, f: FxFormat, c: Compensation, out: Int32Array = new Int32Array(w.length)): Int32Array {
  const rows = w.length / c.n;
  const step = 2 ** -f.fl;
  for (const { perm, u } of c.blocks) {
    const n = perm.length;
    const r = new Float64Array(n);
    for (let row = 0; row < rows; row++) {
      const base = row * c.n;
      for (let i = 0; i < n; i++) r[i] = w[base + perm[i]];
      for (let i = 0; i < n; i++) {
        const q = quantize(r[i], f);
        out[base + perm[i]] = q;
        const ui = i * n;
        const e = (r[i] - q * step) / u[ui + i];
        if (e === 0) continue;
        for (let j = i + 1; j < n; j++) r[j] -= e * u[ui + j];
      }
    }
  }
  return out;
}

/** Multiply-adds spent on one layer's H at most: bounds the images used for very wide layers. */
const H_BUDGET = 8e9;

/**
 * The diagonal blocks of H = sum of x x^T over the float inputs each conv/dense layer sees on
 * `images` (conv: every im2col column). Very wide layers use the first images only, at least 32
 * (`budget`, H_BUDGET by default). Grouped convolutions are left to plain rounding.
 */
export function layerHessians(
  fg: FusedGraph, images: Float64Array, count: number, batch = 32, budget = H_BUDGET,
): Map<string, { hs: Float64Array[]; n: number; images: number }> {
  const g = fg.graph;
  const per = size(g.input.shape);
  const out = new Map<string, { hs: Float64Array[]; n: number; images: number }>();
  const rangesOf = new Map<string, [number, number][]>();
  const targets = fg.layers.filter((l): l is FusedLayer & { op: { kind: 'conv' | 'dense' } } =>
    l.op.kind === 'dense' || (l.op.kind === 'conv' && l.op.group === 1));
  const cap = new Map<string, number>();
  for (const l of targets) {
    const n = l.op.weight.data.length / l.op.weight.shape[0];
    const ranges = blockRanges(n);
    rangesOf.set(l.name, ranges);
    const cols = l.op.kind === 'dense' ? 1 : size(g.shapes[l.output]) / l.op.weight.shape[0];
    const perImage = ranges.reduce((acc, [a, b]) => acc + (b - a) * (b - a), 0) * cols;
    cap.set(l.name, Math.min(count, Math.max(32, Math.floor(budget / perImage))));
    out.set(l.name, { hs: ranges.map(([a, b]) => new Float64Array((b - a) * (b - a))), n, images: 0 });
  }
  const need = Math.max(0, ...cap.values());
  for (let s = 0; s < need; s += batch) {
    const nb = Math.min(batch, need - s);
    const { values } = runGraph(g, images.subarray(s * per, (s + nb) * per), nb, true);
    for (const l of targets) {
      const acc = out.get(l.name)!;
      const b = Math.min(nb, cap.get(l.name)! - s);
      if (b <= 0) continue;
      acc.images += b;
      const x = values!.get(l.inputs[0]);
      if (!x) throw new Error(`layer '${l.name}': float input '${l.inputs[0]}' not found`);
      const n = acc.n;
      const ranges = rangesOf.get(l.name)!;
      if (l.op.kind === 'dense') {
        ranges.forEach(([a, e], k) => {
          const sz = e - a;
          const xb = new Float64Array(b * sz), xt = new Float64Array(sz * b);
          for (let i = 0; i < b; i++) {
            for (let j = 0; j < sz; j++) { const v = x[i * n + a + j]; xb[i * sz + j] = v; xt[j * b + i] = v; }
          }
          gemm(sz, sz, b, xt, 0, xb, 0, acc.hs[k], 0, true);
        });
      } else {
        const op = l.op;
        const [cin, hh, ww] = g.shapes[l.inputs[0]];
        const [, , kh, kw] = op.weight.shape;
        const [ho, wo] = convOutHW(hh, ww, [kh, kw], op.strides, op.pads, op.dilations);
        const hwo = ho * wo;
        const col = new Float64Array(n * hwo), colT = new Float64Array(n * hwo);
        for (let i = 0; i < b; i++) {
          im2col(x, i * cin * hh * ww, cin, hh, ww, kh, kw, ho, wo, op.strides[0], op.strides[1], op.pads[0], op.pads[1], op.dilations[0], op.dilations[1], col);
          ranges.forEach(([a, e], k) => {
            const sz = e - a;
            for (let r = 0; r < sz; r++) for (let p = 0; p < hwo; p++) colT[p * sz + r] = col[(a + r) * hwo + p];
            gemm(sz, sz, hwo, col, a * hwo, colT, 0, acc.hs[k], 0, true);
          });
        }
      }
    }
  }
  return out;
}

/** Attaches a compensation to every conv/dense layer of `fg` (in place) from the search images. */
export function attachCompensation(fg: FusedGraph, images: Float64Array, count: number): void {
  for (const [name, { hs, n }] of layerHessians(fg, images, count)) {
    const l = fg.layers.find((x) => x.name === name)!;
    l.comp = compensationFromBlocks(hs, n);
  }
}

/**
 * Cross-fitting: for each part `[start, end)` of the search images, every layer's compensation
 * fitted on the other parts only. The search scores each part with these, so no image is scored
 * with weights whose rounding was fitted on it.
 *
 * Why: compensation fitted on an image set lowers the error on that set by more than on any other.
 * A dense layer sees one input vector per image, so with 256 search images and 576 inputs (vgg_bn's
 * first classifier layer) H is singular and the rounding error can be moved where those images do
 * not look: the search's KL on its own images then came out at a fifth of the validation images'
 * (vgg_bn, seed 0: 3.5e-4 against 1.85e-3), and the search bought its lowest word lengths there.
 * The network that is written keeps the compensation fitted on all search images.
 * Each part gets its share of the statistics budget, so the cost stays about that of one pass
 * (more for layers so wide that each part still needs its minimum of 32 images).
 */
export function crossFittedCompensations(fg: FusedGraph, images: Float64Array, parts: [number, number][]): Map<string, Compensation>[] {
  const per = size(fg.graph.input.shape);
  const hs = parts.map(([a, b]) => layerHessians(fg, images.subarray(a * per, b * per), b - a, 32, H_BUDGET / parts.length));
  return parts.map((_, k) => {
    const comps = new Map<string, Compensation>();
    for (const [name, { n, hs: first }] of hs[0]) {
      const sum = first.map((h) => new Float64Array(h.length));
      hs.forEach((m, j) => { if (j !== k) m.get(name)!.hs.forEach((h, i) => { for (let e = 0; e < h.length; e++) sum[i][e] += h[e]; }); });
      comps.set(name, compensationFromBlocks(sum, n));
    }
    return comps;
  });
}

/** A copy of `fg` whose layers carry the given compensations instead of their own. */
export function withCompensations(fg: FusedGraph, comps: Map<string, Compensation>): FusedGraph {
  return { ...fg, layers: fg.layers.map((l) => (comps.has(l.name) ? { ...l, comp: comps.get(l.name) } : l)) };
}
