import { type FxFormat, maxInt, minInt, quantize } from '../fixed/format.js';
import { size } from '../ir/types.js';
import { workerScript } from '../util/worker-script.js';
import { type CompJob, type CompResult, runCompJob } from './compensate-jobs.js';
import { blockFactor, upperIndex } from './factor.js';
import type { Compensation } from './compensation.js';
import { GPTQ_WASM_BASE64 } from './gptq-wasm.generated.js';
import type { FusedGraph } from './fuse.js';
import { accumulateHessians, denseToPacked, hessianTargets, type LayerStats, packedToDense } from './hessian.js';
import { defaultThreads, runJobsSync } from './sync-workers.js';

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
export type { CompBlock, Compensation } from './compensation.js';

/** Largest block of inputs compensated together (covers every layer of the zoo whole). */
export const MAX_BLOCK = 1024;

/**
 * Integer weights of format `f` for a weight matrix [rows, n] (a conv's [Cout, Cin*kh*kw] in
 * im2col order). Each element is rounded by the project's one rule (round half up, then saturate,
 * as `quantize`); only the values being rounded differ from plain rounding. `seen`, when given,
 * receives the value each weight had when it was rounded: the kernels' arithmetic, to the bit.
 */
export function compensatedQuantize(
  w: Float64Array,
  f: FxFormat,
  c: Compensation,
  out: Int32Array = new Int32Array(w.length),
  seen?: Float64Array,
): Int32Array {
  if (gptqWasm(w, f, c, out, seen)) return out;
  return compensatedQuantizeJs(w, f, c, out, seen);
}

interface GptqKernel {
  memory: WebAssembly.Memory;
  gptqBlock: (
    r: number,
    u: number,
    n: number,
    g: number,
    scale: number,
    step: number,
    lo: number,
    hi: number,
    out: number,
    e: number,
  ) => void;
}
let kernel: GptqKernel | null | undefined;
/** Weight rows per call of the WebAssembly kernel (even: it takes rows in pairs). */
const ROWS = 16;
/** Inputs per panel of the kernel (wasm/gptq.ts P): the size of its error scratch. */
const PANEL = 32;

/**
 * compensatedQuantize in WebAssembly SIMD (wasm/gptq.ts): the same operations in the same order,
 * so the same integers; false when WebAssembly SIMD is unavailable (the loop below then runs).
 */
function gptqWasm(w: Float64Array, f: FxFormat, c: Compensation, out: Int32Array, seen?: Float64Array): boolean {
  if (kernel === undefined) {
    try {
      kernel =
        process.env.FXPQ_NO_WASM === '1'
          ? null
          : (new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(GPTQ_WASM_BASE64, 'base64')), {})
              .exports as unknown as GptqKernel);
    } catch {
      kernel = null;
    }
  }
  if (!kernel) return false;
  const k = kernel;
  const rows = w.length / c.n;
  const scale = 2 ** f.fl,
    step = 2 ** -f.fl,
    lo = minInt(f),
    hi = maxInt(f);
  for (const { perm, u } of c.blocks) {
    const n = perm.length;
    const pu = 64,
      pr = pu + 8 * u.length,
      po = pr + 8 * ROWS * n,
      pe = po + 4 * ROWS * n,
      end = pe + 8 * ROWS * PANEL;
    if (end > k.memory.buffer.byteLength) k.memory.grow(Math.ceil((end - k.memory.buffer.byteLength) / 65536));
    new Float64Array(k.memory.buffer, pu, u.length).set(u);
    const r = new Float64Array(k.memory.buffer, pr, ROWS * n);
    const o = new Int32Array(k.memory.buffer, po, ROWS * n);
    for (let row0 = 0; row0 < rows; row0 += ROWS) {
      const g = Math.min(ROWS, rows - row0);
      for (let j = 0; j < g; j++) {
        const base = (row0 + j) * c.n;
        for (let i = 0; i < n; i++) r[j * n + i] = w[base + perm[i]];
      }
      // An odd count gets a row of zeros (rounded to zeros, never read back).
      if (g & 1) r.fill(0, g * n, (g + 1) * n);
      k.gptqBlock(pr, pu, n, g + (g & 1), scale, step, lo, hi, po, pe);
      for (let j = 0; j < g; j++) {
        const base = (row0 + j) * c.n;
        for (let i = 0; i < n; i++) out[base + perm[i]] = o[j * n + i];
        if (seen) for (let i = 0; i < n; i++) seen[base + perm[i]] = r[j * n + i];
      }
    }
  }
  return true;
}

/** Which implementation compensatedQuantize runs here (tests check the kernel is really used). */
export function compensationKernel(): 'wasm' | 'js' {
  if (kernel === undefined) gptqWasm(new Float64Array(0), { wl: 8, fl: 0, signed: true }, { n: 1, blocks: [] }, new Int32Array(0));
  return kernel ? 'wasm' : 'js';
}

/** The reference loop of compensatedQuantize (and its fallback without WebAssembly SIMD). */
export function compensatedQuantizeJs(
  w: Float64Array,
  f: FxFormat,
  c: Compensation,
  out: Int32Array = new Int32Array(w.length),
  seen?: Float64Array,
): Int32Array {
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
        if (seen) seen[base + perm[i]] = r[i];
        // Row i of the packed U, indexed by column (factor.ts upperIndex).
        const ui = upperIndex(n, i, 0);
        const e = (r[i] - q * step) / u[ui + i];
        if (e === 0) continue;
        for (let j = i + 1; j < n; j++) r[j] -= e * u[ui + j];
      }
    }
  }
  return out;
}

/** Block ranges for n inputs: as few blocks as MAX_BLOCK allows, of near-equal size. */
export function blockRanges(n: number): [number, number][] {
  const k = Math.ceil(n / MAX_BLOCK);
  return Array.from({ length: k }, (_, i) => [Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)]);
}

/** Compensation from the diagonal blocks (per `blockRanges(n)`) of H, each given as its own (symmetric) matrix. */
export function compensationFromBlocks(hs: Float64Array[], n: number): Compensation {
  return compensationFromPacked(
    hs.map((h, i) => {
      const [a, b] = blockRanges(n)[i];
      return denseToPacked(h, b - a);
    }),
    n,
  );
}

/** Compensation from a whole n x n H (n <= MAX_BLOCK). */
export function compensationFromHessian(h: Float64Array, n: number): Compensation {
  if (n > MAX_BLOCK) throw new Error(`compensationFromHessian: ${n} inputs, at most ${MAX_BLOCK}`);
  return compensationFromBlocks([h], n);
}

/** Compensation from the diagonal blocks of H given as packed lower triangles (quant/hessian.ts). */
export function compensationFromPacked(hs: Float64Array[], n: number): Compensation {
  return assemble(
    n,
    hs.map((h, i) => {
      const [a, b] = blockRanges(n)[i];
      return blockFactor(h, b - a);
    }),
  );
}

function assemble(n: number, fs: { perm: Int32Array; u: Float64Array }[]): Compensation {
  const ranges = blockRanges(n);
  return { n, blocks: fs.map((f, i) => ({ perm: f.perm.map((p) => p + ranges[i][0]), u: f.u })) };
}

/** Multiply-adds spent on one layer's H at most: bounds the images used for very wide layers. */
const H_BUDGET = 8e9;

/**
 * The diagonal blocks of H = sum of x x^T over the float inputs each conv/dense layer sees on
 * `images` (conv: every im2col column), in one pass over the images on this thread. Very wide
 * layers use the first images only, at least 32 (`budget`, H_BUDGET by default). Grouped
 * convolutions are left to plain rounding.
 */
export function layerHessians(
  fg: FusedGraph,
  images: Float64Array,
  count: number,
  batch = 32,
  budget = H_BUDGET,
): Map<string, { hs: Float64Array[]; n: number; images: number }> {
  const targets = hessianTargets(fg, count, budget, blockRanges);
  const stats = accumulateHessians(fg.graph, targets, images, count, batch);
  return new Map(
    [...stats].map(([name, s]) => [
      name,
      {
        n: s.n,
        images: s.images,
        hs: s.hs.map((h, i) => {
          const [a, b] = blockRanges(s.n)[i];
          return packedToDense(h, b - a);
        }),
      },
    ]),
  );
}

/** Compiled worker of the compensation jobs (sync-workers.ts). */
const WORKER = workerScript(import.meta.url, 'compensate-worker');
/**
 * `minWork`: multiply-adds (H: of the statistics; factorisations: sum of block size cubed) below
 * which the work stays on the calling thread, as starting a worker costs about a third of a
 * second (tests set it to 0 to exercise the workers on small layers).
 */
export const compensationParallel = { minWork: 4e9 };
const threadsFor = (costs: number[], threads: number) => (costs.reduce((x, y) => x + y, 0) < compensationParallel.minWork ? 1 : threads);

/**
 * H of every layer on each part of the images, each part on its own (a thread per part), each with
 * `budget` multiply-adds per layer. A part's H is the same whichever thread forms it. With `full`,
 * each part also gives its share of the H of all `full.count` images under `full.budget` (where a
 * layer's cap keeps the full H to the first images, that share differs from the part's own H).
 */
export function partStatistics(
  fg: FusedGraph,
  images: Float64Array,
  parts: [number, number][],
  budget: number,
  threads = defaultThreads(),
  full?: { count: number; budget: number },
): Map<string, LayerStats>[] {
  const per = size(fg.graph.input.shape);
  const fullCap = full && new Map(hessianTargets(fg, full.count, full.budget, blockRanges).map((t) => [t.name, t.cap]));
  const jobs: CompJob[] = parts.map(([a, b]) => ({
    kind: 'stats',
    graph: fg.graph,
    images: images.slice(a * per, b * per),
    count: b - a,
    batch: 32,
    targets: hessianTargets(fg, b - a, budget, blockRanges).map((t) =>
      fullCap ? { ...t, capFull: Math.max(0, Math.min(b - a, fullCap.get(t.name)! - a)) } : t,
    ),
  }));
  const costs = jobs.map((j) =>
    j.kind === 'stats'
      ? j.targets.reduce(
          (acc, t) => acc + Math.max(t.cap, t.capFull ?? 0) * t.cols * t.ranges.reduce((q, [x, y]) => q + (y - x) ** 2, 0),
          0,
        )
      : 0,
  );
  const res = runJobsSync<CompJob, CompResult>({
    jobs,
    costs,
    threads: threadsFor(costs, threads),
    script: WORKER,
    run: runCompJob,
    transferJob: (j) => (j.kind === 'stats' ? [j.images.buffer as ArrayBuffer] : []),
  });
  return res.map((r) => new Map((r as Extract<CompResult, { kind: 'stats' }>).stats));
}

/**
 * Sum of the given parts' statistics (their share of the full H with `full`), per layer and
 * block, added in part order from zero.
 */
function sumStats(stats: Map<string, LayerStats>[], which: number[], full = false): Map<string, LayerStats> {
  const out = new Map<string, LayerStats>();
  for (const [name, { n, hs }] of stats[0]) {
    const sum = hs.map((h) => new Float64Array(h.length));
    let images = 0;
    for (const j of which) {
      const s = stats[j].get(name)!;
      const part = full && s.full ? s.full : s;
      images += part.images;
      part.hs.forEach((h, i) => {
        const d = sum[i];
        for (let e = 0; e < h.length; e++) d[e] += h[e];
      });
    }
    out.set(name, { n, images, hs: sum });
  }
  return out;
}

/**
 * Compensations from several sets of statistics, every block's factorisation a job of its own on
 * `threads` threads. The statistics' buffers are handed to the workers (detached here).
 */
export function compensationsFrom(sets: Map<string, LayerStats>[], threads = defaultThreads()): Map<string, Compensation>[] {
  const jobs: CompJob[] = [];
  for (const set of sets) {
    for (const { n, hs } of set.values())
      hs.forEach((h, i) => {
        const [a, b] = blockRanges(n)[i];
        jobs.push({ kind: 'factor', h, n: b - a });
      });
  }
  const costs = jobs.map((j) => (j.kind === 'factor' ? j.n ** 3 : 0));
  const res = runJobsSync<CompJob, CompResult>({
    jobs,
    costs,
    threads: threadsFor(costs, threads),
    script: WORKER,
    run: runCompJob,
    transferJob: (j) => (j.kind === 'factor' ? [j.h.buffer as ArrayBuffer] : []),
  }) as Extract<CompResult, { kind: 'factor' }>[];
  let k = 0;
  return sets.map(
    (set) =>
      new Map(
        [...set].map(([name, { n, hs }]) => [
          name,
          assemble(
            n,
            hs.map(() => res[k++]),
          ),
        ]),
      ),
  );
}

/** The two halves of `count` search images: the statistics' parts (the search's two shards). */
function halves(count: number): [number, number][] {
  return [
    [0, Math.floor(count / 2)],
    [Math.floor(count / 2), count],
  ];
}

/**
 * Statistics of the halves kept by `attachCompensation` for `crossFittedCompensations` on the same
 * images and graph: the search needs both, and the full H is the sum of the halves' H.
 */
const pending = new WeakMap<Float64Array, { fg: FusedGraph; parts: [number, number][]; stats: Map<string, LayerStats>[] }>();

/**
 * Attaches a compensation to every conv/dense layer of `fg` (in place) from the search images.
 *
 * The images are taken in two halves (the search's two shards), each on its own thread. Each half
 * gives its share of H (its images among the first that a layer's budget allows, all of them for
 * every layer of the zoo) and, on the way, its own H under half the budget, which is kept for
 * `crossFittedCompensations`: the search pays for one pass over the images, not two. H is the sum
 * of the two shares: the same sum as one pass over all the images, added up in another order.
 */
export function attachCompensation(fg: FusedGraph, images: Float64Array, count: number, threads = defaultThreads()): void {
  const parts = halves(count);
  const stats = partStatistics(fg, images, parts, H_BUDGET / parts.length, threads, { count, budget: H_BUDGET });
  const [comps] = compensationsFrom(
    [
      sumStats(
        stats,
        parts.map((_, i) => i),
        true,
      ),
    ],
    threads,
  );
  for (const l of fg.layers) if (comps.has(l.name)) l.comp = comps.get(l.name);
  for (const m of stats) for (const s of m.values()) delete s.full;
  pending.set(images, { fg, parts, stats });
  // Kept only for a caller that asks for the cross-fitted compensations straight away (the search
  // does, in the same synchronous step); `--uniform N` never does, so the memory is not held.
  setImmediate(() => {
    if (pending.get(images)?.stats === stats) pending.delete(images);
  }).unref();
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
 * (more for layers so wide that each part still needs its minimum of 32 images). Where the parts
 * are the halves `attachCompensation` just used on these images, their statistics are reused.
 */
export function crossFittedCompensations(
  fg: FusedGraph,
  images: Float64Array,
  parts: [number, number][],
  threads = defaultThreads(),
): Map<string, Compensation>[] {
  const kept = pending.get(images);
  let stats: Map<string, LayerStats>[];
  if (
    kept &&
    kept.fg === fg &&
    kept.parts.length === parts.length &&
    kept.parts.every(([a, b], i) => a === parts[i][0] && b === parts[i][1])
  ) {
    stats = kept.stats;
    pending.delete(images);
  } else {
    stats = partStatistics(fg, images, parts, H_BUDGET / parts.length, threads);
  }
  return compensationsFrom(
    parts.map((_, k) =>
      sumStats(
        stats,
        parts.map((__, j) => j).filter((j) => j !== k),
      ),
    ),
    threads,
  );
}

/** A copy of `fg` whose layers carry the given compensations instead of their own. */
export function withCompensations(fg: FusedGraph, comps: Map<string, Compensation>): FusedGraph {
  return { ...fg, layers: fg.layers.map((l) => (comps.has(l.name) ? { ...l, comp: comps.get(l.name) } : l)) };
}
