/**
 * Times the error-compensation statistics (quant/compensate.ts) on one model.
 *   npx tsc -p . && node dist/bench/compensate-speed.js models/big/resnet18.onnx [--images 256] [--threads 2] [--old] [--repeat 1]
 * Prints, for the search's 256 images cut into its two shards:
 *   - full: attachCompensation (H of all search images, and its factorisations), as `--uniform N` pays;
 *   - cross-fitted: crossFittedCompensations right after it (the statistics of the two shards), as the
 *     FxP-QNet search pays on top;
 *   - the factorisations alone, per layer kind (conv inputs <= 1,024 whole, conv split into blocks,
 *     dense), on one thread.
 * `--old` also runs the implementation before issue 26 (one thread, kept here for comparison only:
 * a second pass over the images for the cross-fitted statistics, the whole of each block of H, and
 * a Cholesky factorisation, an inverse, L^-T L^-1 and a second Cholesky factorisation in scalar
 * loops), and checks that the new H matches it and how far the factors are apart.
 */
import { runGraph } from '../src/engine/run.js';
import { gemm } from '../src/engine/gemm.js';
import { im2col } from '../src/engine/kernels.js';
import { loadImages } from '../src/io/dataset.js';
import { convOutHW } from '../src/ir/geometry.js';
import { size } from '../src/ir/types.js';
import { importOnnxFile } from '../src/onnx/import.js';
import { attachCompensation, blockRanges, crossFittedCompensations, layerHessians } from '../src/quant/compensate.js';
import { blockFactor, upperIndex } from '../src/quant/factor.js';
import { type FusedGraph, type FusedLayer, fuseGraph } from '../src/quant/fuse.js';
import { denseToPacked } from '../src/quant/hessian.js';
import { shardRanges } from '../src/search/backend.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const model = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'models/big/resnet18.onnx';
const count = Number(arg('--images') ?? 256);
const threads = Number(arg('--threads') ?? 2);
const repeat = Number(arg('--repeat') ?? 1);
const old = process.argv.includes('--old');

const g = importOnnxFile(model);
const cal = loadImages('models/data/calib_x.npy', g.input.shape, { limit: count });
const sec = (t: number) => ((performance.now() - t) / 1000).toFixed(1).padStart(6);
/** CPU seconds of the whole process (all threads) since `c`. */
const cpu = (c: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(c);
  return ((d.user + d.system) / 1e6).toFixed(1);
};
const kindOf = (l: FusedLayer, n: number) => (l.op.kind === 'dense' ? 'dense' : n > 1024 ? 'conv, split' : 'conv, whole');

console.log(`${model}: ${cal.count} images, ${threads} thread(s)`);
for (let r = 0; r < repeat; r++) {
  const fg = fuseGraph(g);
  const t0 = performance.now(),
    c0 = process.cpuUsage();
  attachCompensation(fg, cal.data, cal.count, threads);
  const full = sec(t0),
    fullCpu = cpu(c0);
  const t1 = performance.now(),
    c1 = process.cpuUsage();
  crossFittedCompensations(fg, cal.data, shardRanges(cal.count), threads);
  console.log(`new: full ${full} s, cross-fitted ${sec(t1)} s, both ${sec(t0)} s wall (CPU ${fullCpu} + ${cpu(c1)} s)`);
}

// Factorisations alone, one thread, per layer kind (H of the first 32 images: the time does not depend on it).
const fg = fuseGraph(g);
const hs = layerHessians(fg, cal.data, Math.min(32, cal.count));
const kinds = new Map<string, { blocks: number; now: number; before: number; diff: number }>();
for (const [name, { hs: blocks, n }] of hs) {
  const l = fg.layers.find((x) => x.name === name)!;
  const k = kinds.get(kindOf(l, n)) ?? { blocks: 0, now: 0, before: 0, diff: 0 };
  kinds.set(kindOf(l, n), k);
  blockRanges(n).forEach(([a, b], i) => {
    const sz = b - a;
    let t = performance.now();
    const f = blockFactor(denseToPacked(blocks[i], sz), sz);
    k.now += performance.now() - t;
    k.blocks++;
    if (old) {
      t = performance.now();
      const o = oldBlockFactor(blocks[i], sz);
      k.before += performance.now() - t;
      for (let i = 0; i < sz; i++)
        for (let j = i; j < sz; j++)
          k.diff = Math.max(k.diff, Math.abs(o.u[i * sz + j] - f.u[upperIndex(sz, i, j)]) / Math.abs(o.u[i * (sz + 1)]));
    }
  });
}
for (const [k, v] of kinds) {
  console.log(
    `factorisations, ${k}: ${v.blocks} blocks, ${(v.now / 1000).toFixed(2)} s${old ? ` (before: ${(v.before / 1000).toFixed(2)} s; largest difference in U ${v.diff.toExponential(1)} of its row's diagonal)` : ''}`,
  );
}

if (old) {
  const fo = fuseGraph(g);
  const t0 = performance.now(),
    c0 = process.cpuUsage();
  oldAttach(fo, cal.data, cal.count);
  const full = sec(t0),
    fullCpu = cpu(c0);
  const t1 = performance.now(),
    c1 = process.cpuUsage();
  oldCrossFitted(fo, cal.data, shardRanges(cal.count));
  console.log(`before: full ${full} s, cross-fitted ${sec(t1)} s, both ${sec(t0)} s wall (CPU ${fullCpu} + ${cpu(c1)} s; one thread)`);
  // The new single-pass H is the old one, byte for byte.
  const a = layerHessians(fg, cal.data, cal.count),
    b = oldLayerHessians(fg, cal.data, cal.count);
  let same = true;
  for (const [name, { hs: x }] of a)
    x.forEach((h, i) => {
      const y = b.get(name)!.hs[i];
      for (let e = 0; e < h.length; e++) if (h[e] !== y[e]) same = false;
    });
  console.log(`layerHessians: ${same ? 'the same bytes as before' : 'DIFFERS from before'}`);
}

// ---- The implementation before issue 26, for comparison only. ----

function oldCholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0)) throw new Error('matrix is not positive definite');
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      const ri = i * n,
        rj = j * n;
      for (let k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

function oldInvLower(l: Float64Array, n: number): Float64Array {
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

function oldBlockFactor(h: Float64Array, n: number): { perm: Int32Array; u: Float64Array } {
  const diag = Array.from({ length: n }, (_, i) => h[i * n + i]);
  const perm = Int32Array.from(diag.map((_, i) => i).sort((x, y) => diag[y] - diag[x] || x - y));
  let mean = 0;
  for (const d of diag) mean += d;
  mean /= n;
  const damp = 0.01 * (mean > 0 ? mean : 1);
  const hp = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) hp[i * n + j] = h[perm[i] * n + perm[j]];
    if (hp[i * n + i] === 0) hp[i * n + i] = 1;
    hp[i * n + i] += damp;
  }
  const linv = oldInvLower(oldCholesky(hp, n), n);
  const hinv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += linv[k * n + i] * linv[k * n + j];
      hinv[i * n + j] = s;
      hinv[j * n + i] = s;
    }
  }
  const l2 = oldCholesky(hinv, n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) u[i * n + j] = l2[j * n + i];
  return { perm, u };
}

function oldLayerHessians(
  fg: FusedGraph,
  images: Float64Array,
  count: number,
  batch = 32,
  budget = 8e9,
): Map<string, { hs: Float64Array[]; n: number }> {
  const gr = fg.graph;
  const per = size(gr.input.shape);
  const out = new Map<string, { hs: Float64Array[]; n: number }>();
  const targets = fg.layers.filter(
    (l): l is FusedLayer & { op: { kind: 'conv' | 'dense' } } => l.op.kind === 'dense' || (l.op.kind === 'conv' && l.op.group === 1),
  );
  const cap = new Map<string, number>();
  for (const l of targets) {
    const n = l.op.weight.data.length / l.op.weight.shape[0];
    const ranges = blockRanges(n);
    const cols = l.op.kind === 'dense' ? 1 : size(gr.shapes[l.output]) / l.op.weight.shape[0];
    const perImage = ranges.reduce((acc, [a, b]) => acc + (b - a) * (b - a), 0) * cols;
    cap.set(l.name, Math.min(count, Math.max(32, Math.floor(budget / perImage))));
    out.set(l.name, { hs: ranges.map(([a, b]) => new Float64Array((b - a) * (b - a))), n });
  }
  const need = Math.max(0, ...cap.values());
  for (let s = 0; s < need; s += batch) {
    const nb = Math.min(batch, need - s);
    const { values } = runGraph(gr, images.subarray(s * per, (s + nb) * per), nb, true);
    for (const l of targets) {
      const acc = out.get(l.name)!;
      const b = Math.min(nb, cap.get(l.name)! - s);
      if (b <= 0) continue;
      const x = values!.get(l.inputs[0])!;
      const n = acc.n;
      const ranges = blockRanges(n);
      if (l.op.kind === 'dense') {
        ranges.forEach(([a, e], k) => {
          const sz = e - a;
          const xb = new Float64Array(b * sz),
            xt = new Float64Array(sz * b);
          for (let i = 0; i < b; i++)
            for (let j = 0; j < sz; j++) {
              const v = x[i * n + a + j];
              xb[i * sz + j] = v;
              xt[j * b + i] = v;
            }
          gemm(sz, sz, b, xt, 0, xb, 0, acc.hs[k], 0, true);
        });
      } else {
        const op = l.op;
        const [cin, hh, ww] = gr.shapes[l.inputs[0]];
        const [, , kh, kw] = op.weight.shape;
        const [ho, wo] = convOutHW(hh, ww, [kh, kw], op.strides, op.pads, op.dilations);
        const hwo = ho * wo;
        const col = new Float64Array(n * hwo),
          colT = new Float64Array(n * hwo);
        for (let i = 0; i < b; i++) {
          im2col(
            x,
            i * cin * hh * ww,
            cin,
            hh,
            ww,
            kh,
            kw,
            ho,
            wo,
            op.strides[0],
            op.strides[1],
            op.pads[0],
            op.pads[1],
            op.dilations[0],
            op.dilations[1],
            col,
          );
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

/** The square U of the old factorisation in the packed form compensations use (factor.ts upperIndex). */
function packUpper(u: Float64Array, n: number): Float64Array {
  const p = new Float64Array((n * (n + 1)) / 2);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) p[upperIndex(n, i, j)] = u[i * n + j];
  return p;
}

function oldAttach(f: FusedGraph, images: Float64Array, n: number): void {
  for (const [name, { hs: blocks, n: k }] of oldLayerHessians(f, images, n)) {
    const ranges = blockRanges(k);
    f.layers.find((x) => x.name === name)!.comp = {
      n: k,
      blocks: blocks.map((h, i) => {
        const sz = ranges[i][1] - ranges[i][0],
          c = oldBlockFactor(h, sz);
        return { perm: c.perm.map((p) => p + ranges[i][0]), u: packUpper(c.u, sz) };
      }),
    };
  }
}

function oldCrossFitted(f: FusedGraph, images: Float64Array, parts: [number, number][]): void {
  const per = size(f.graph.input.shape);
  const all = parts.map(([a, b]) => oldLayerHessians(f, images.subarray(a * per, b * per), b - a, 32, 8e9 / parts.length));
  parts.forEach((_, k) => {
    for (const [name, { n, hs: first }] of all[0]) {
      const sum = first.map((h) => new Float64Array(h.length));
      all.forEach((m, j) => {
        if (j !== k)
          m.get(name)!.hs.forEach((h, i) => {
            for (let e = 0; e < h.length; e++) sum[i][e] += h[e];
          });
      });
      const ranges = blockRanges(n);
      sum.forEach((h, i) => oldBlockFactor(h, ranges[i][1] - ranges[i][0]));
    }
  });
}
