import { argmaxRows } from '../engine/run.js';
import { quantizeInput } from '../intref/ops.js';
import { runLayers } from '../intref/run.js';
import { size } from '../ir/types.js';
import type { FxFormat } from '../fixed/format.js';
import type { Assignment } from '../quant/build.js';
import { buildQGraph } from '../quant/build.js';
import type { FusedGraph } from '../quant/fuse.js';
import type { QGraph } from '../quant/qgraph.js';

/** What the search measures of a configuration against the float teacher on a set of images. */
export interface Score {
  /** Mean KL divergence KL(teacher || student) of the softmax outputs, in nats per image. */
  kl: number;
  /** Sum of the per-image KL over the images scored (shards add these, in order). */
  klSum: number;
  /** Images whose top-1 differs from the teacher's (or, with labels, that are wrong). */
  errors: number;
  images: number;
  /** True when evaluation stopped early because the candidate was clearly worse than `abortAbove`. */
  aborted: boolean;
}

/** A cached tensor: integers of one format, in the narrowest array that holds every value of it. */
type Cached = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** An array of `n` integers of format `f` (every format is at most 32 bits). */
function cacheArray(f: FxFormat, n: number): Cached {
  if (f.wl <= 8) return f.signed ? new Int8Array(n) : new Uint8Array(n);
  if (f.wl <= 16) return f.signed ? new Int16Array(n) : new Uint16Array(n);
  return f.signed ? new Int32Array(n) : new Uint32Array(n);
}

function logSoftmax(y: Float64Array, off: number, n: number, scale: number, out: Float64Array): void {
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, y[off + i] * scale);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(y[off + i] * scale - m);
  const lse = m + Math.log(s);
  for (let i = 0; i < n; i++) out[i] = y[off + i] * scale - lse;
}

/**
 * Runs quantized configurations on a fixed image set, keeping every layer's integer output of the
 * current configuration so a change at layer L recomputes only layers L.. (earlier activations
 * are reused). Images are processed in chunks; a candidate whose partial KL already exceeds the
 * caller's bound by a clear margin is abandoned early.
 */
export class Evaluator {
  /**
   * Every layer's integer output for the current configuration, all images, in the narrowest array
   * its format fits (cacheArray): a quarter of the float64 the integer reference computes with
   * at 16 bits or fewer, an eighth at 8 (a ResNet-18-size network has 226,000 values per image).
   */
  private readonly cache = new Map<string, Cached>();
  private readonly teacherLogP: Float64Array;
  private readonly targets: Int32Array;
  readonly n: number;
  private readonly classes: number;
  private q!: QGraph;
  private assignment!: Assignment;
  /** Which cached tensors each layer index needs from before it. */
  private readonly needBefore: string[][];
  score!: Score;

  constructor(
    private readonly fg: FusedGraph,
    private readonly images: Float64Array,
    teacherLogits: Float64Array,
    labels: Int32Array | undefined,
    private readonly chunk = 64,
  ) {
    const shapes = fg.graph.shapes;
    this.n = images.length / size(shapes[fg.input]);
    this.classes = size(shapes[fg.output]);
    this.teacherLogP = new Float64Array(teacherLogits.length);
    const tmp = new Float64Array(this.classes);
    for (let i = 0; i < this.n; i++) {
      logSoftmax(teacherLogits, i * this.classes, this.classes, 1, tmp);
      this.teacherLogP.set(tmp, i * this.classes);
    }
    this.targets = labels ?? argmaxRows(teacherLogits, this.n);
    const produced = new Map<string, number>([[fg.input, -1]]);
    fg.layers.forEach((l, i) => produced.set(l.output, i));
    this.needBefore = fg.layers.map((_, from) => {
      const need = new Set<string>();
      for (let i = from; i < fg.layers.length; i++) for (const t of fg.layers[i].inputs) if (produced.get(t)! < from) need.add(t);
      return [...need];
    });
  }

  get current(): { q: QGraph; assignment: Assignment } {
    return { q: this.q, assignment: this.assignment };
  }

  /** Scores `a` (which differs from the committed configuration only from layer `from` on). */
  evaluate(a: Assignment, from: number, abortAbove = Infinity, limit = this.n): Score & { q: QGraph } {
    const q = buildQGraph(this.fg, a);
    return { ...this.run(q, a, from, abortAbove, null, Math.min(limit, this.n)), q };
  }

  /** Makes `a` the current configuration, recomputing the cache from layer `from`. */
  commit(a: Assignment, from: number): Score {
    this.stage(a, from);
    return this.promote();
  }

  private staged: { q: QGraph; a: Assignment; s: Score; cache: Map<string, Cached> } | null = null;

  /**
   * Scores `a` like `evaluate`, keeping its layer outputs aside: `promote` then makes it current
   * without computing it again (the search checks a step on the validation images and, if it
   * holds, commits the same configuration).
   */
  stage(a: Assignment, from: number): Score {
    const q = buildQGraph(this.fg, a);
    const cache = new Map<string, Cached>();
    const s = this.run(q, a, this.q === undefined ? 0 : from, Infinity, cache);
    this.staged = { q, a, s, cache };
    return s;
  }

  promote(): Score {
    const st = this.staged;
    if (!st) throw new Error('nothing staged to promote');
    for (const [t, v] of st.cache) this.cache.set(t, v);
    this.q = st.q;
    this.assignment = st.a;
    this.score = st.s;
    this.staged = null;
    return st.s;
  }

  discard(): void {
    this.staged = null;
  }

  /** Scores the first `n` images (all of them when staging or committing). */
  private run(q: QGraph, a: Assignment, from: number, abortAbove: number, newCache: Map<string, Cached> | null, n = this.n): Score {
    const store = newCache !== null;
    const shapes = this.fg.graph.shapes;
    const inSize = size(shapes[this.fg.input]);
    const inputChanged = !this.assignment || JSON.stringify(this.assignment.input) !== JSON.stringify(a.input);
    if (inputChanged) from = 0;
    let kl = 0,
      errors = 0,
      done = 0;
    const logq = new Float64Array(this.classes);
    const outF = q.values[q.output].format;
    const scale = 2 ** -outF.fl;
    for (let s = 0; s < n; s += this.chunk) {
      const b = Math.min(this.chunk, n - s);
      const values = new Map<string, Float64Array>();
      for (const t of this.needBefore[from] ?? []) {
        if (t === this.fg.input) continue;
        const per = size(shapes[t]);
        values.set(t, Float64Array.from(this.cache.get(t)!.subarray(s * per, (s + b) * per)));
      }
      if (from === 0 || (this.needBefore[from] ?? []).includes(this.fg.input)) {
        values.set(
          this.fg.input,
          inputChanged
            ? quantizeInput(this.images.subarray(s * inSize, (s + b) * inSize), a.input)
            : Float64Array.from(this.cache.get(this.fg.input)!.subarray(s * inSize, (s + b) * inSize)),
        );
      }
      const r = runLayers(q, from, values, b, store);
      if (newCache) {
        for (const [t, v] of r.values!) {
          if (t !== this.fg.input && this.fg.layers.findIndex((l) => l.output === t) < from) continue;
          let buf = newCache.get(t);
          if (!buf) {
            buf = cacheArray(q.values[t].format, this.n * size(shapes[t]));
            newCache.set(t, buf);
          }
          buf.set(v, s * size(shapes[t]));
        }
      }
      const y = r.output;
      for (let i = 0; i < b; i++) {
        logSoftmax(y, i * this.classes, this.classes, scale, logq);
        let k = 0,
          best = 0;
        for (let c = 0; c < this.classes; c++) {
          const lp = this.teacherLogP[(s + i) * this.classes + c];
          k += Math.exp(lp) * (lp - logq[c]);
          if (y[i * this.classes + c] > y[i * this.classes + best]) best = c;
        }
        kl += k;
        if (best !== this.targets[s + i]) errors++;
      }
      done += b;
      // Clearly worse: after a quarter of the images the running mean is already twice the bound.
      if (!store && done >= n / 4 && done < n && kl / done > 2 * abortAbove + 1e-4) {
        return { kl: kl / done, klSum: kl, errors, images: done, aborted: true };
      }
    }
    return { kl: kl / n, klSum: kl, errors, images: n, aborted: false };
  }
}
