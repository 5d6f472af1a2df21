import { FxpqError, UnsupportedError } from '../errors.js';
import type { FxFormat } from '../fixed/format.js';
import { size } from '../ir/types.js';
import type { QGraph, QLayer } from '../quant/qgraph.js';
import { Budget, fmtShape, shortName } from '../util/limits.js';
import { HANDOFF_CYCLES, LOAD_TO_START_CYCLES, SEND_FETCH_CYCLES } from './cycles.js';
import type { Chw, EngineModule } from './engine-module.js';
import { engineCycles, engineFor, engineModule, type EnginePlan } from './engines/index.js';
import { type BufferPlan, WEIGHT_STORE_GRAIN, type WeightStore } from './plan-types.js';

/**
 * The hardware plan: the one description of the accelerator that the Verilog generator renders and
 * the cycle simulator executes. Architecture (docs/architecture.md): one engine per layer, each
 * with exactly its layer's widths; layers run one after another on one image; every tensor lives
 * in its own on-chip buffer whose words pack `lanes` channels side by side.
 */

export type { BufferPlan, EngineBase, WeightRegion, WeightStore, Window } from './plan-types.js';
export type { AddEngine, EnginePlan, LinearEngine, PoolEngine } from './engines/index.js';
export { engineSummary } from './engines/index.js';

export interface HwPlan {
  model: string;
  buffers: BufferPlan[];
  engines: EnginePlan[];
  input: { buffer: number; elements: number; format: FxFormat };
  output: { buffer: number; elements: number; format: FxFormat };
  /** Total multipliers (the --macs budget spent). */
  macs: number;
  macBudget: number;
  /** Cycles per image with the input streamed one word per cycle and the output never stalled. */
  latency: number;
  /** Layers do not overlap and one image is in flight, so a new image starts when the last one leaves. */
  interval: number;
  /** Bits of on-chip storage: activation buffers and weight/bias ROMs (or the weight store). */
  memoryBits: { activations: number; weights: number };
  /** Present when the weights are loaded after reset instead of held in ROMs (PlanOptions.weights). */
  weightStore?: WeightStore;
}

/** Where the weights live: ROMs in the bitstream, or a memory loaded through the input stream after reset. */
export type WeightPlacement = 'rom' | 'load';
export const WEIGHT_PLACEMENTS: readonly WeightPlacement[] = ['rom', 'load'];

export interface PlanOptions {
  /** Total multipliers; default: DEFAULT_MACS. */
  macs?: number;
  model?: string;
  /** Default 'rom'. */
  weights?: WeightPlacement;
}

export const DEFAULT_MACS = 64;

const clog2 = (n: number): number => (n <= 1 ? 1 : Math.ceil(Math.log2(n)));
const chw = (shape: number[]): Chw => {
  if (shape.length === 3) return [shape[0], shape[1], shape[2]];
  if (shape.length === 1) return [shape[0], 1, 1];
  throw new UnsupportedError(`the generator handles [C, H, W] and [C] tensors, not [${shape.join(', ')}]`);
};
const divisors = (n: number): number[] => {
  const lo: number[] = [],
    hi: number[] = [];
  for (let i = 1; i * i <= n; i++)
    if (n % i === 0) {
      lo.push(i);
      if (i * i !== n) hi.push(n / i);
    }
  return [...lo, ...hi.reverse()];
};

/**
 * Bytes charged per element when a plan is checked against the memory limit, measured on
 * `fxpq generate` (the most demanding user of a plan): each input element costs about 90 bytes per
 * test-vector image (8 by default) as hex text; every other activation a float64 in the simulator's
 * buffer plus 8 images of reference values; every weight its float64 copy and a line of ROM text;
 * every window tap an int32 in the simulator's address table.
 */
export const PLAN_BYTES = { input: 800, activation: 72, weight: 64, tap: 4 } as const;

/**
 * Checks what a plan for `q` will need against the memory limit before building it: the sizes come
 * from a .fxp.json, so a small file can declare buffers and ROMs of any size.
 */
export function checkPlanMemory(q: QGraph, model = 'model'): void {
  const plan = `the hardware plan of '${shortName(model)}'`;
  const budget = new Budget(`${plan} (buffers, weight ROMs, test vectors)`);
  const inShape = q.values[q.input].shape;
  budget.take(shapeCount(inShape), PLAN_BYTES.input, `${plan}: the input buffer ${fmtShape(inShape)} with its test vectors`);
  for (const l of q.layers) {
    if (l.op.kind === 'flatten') continue;
    const shape = q.values[l.output].shape;
    const what = `${plan}: layer '${shortName(l.name)}'`;
    budget.take(shapeCount(shape), PLAN_BYTES.activation, `${what}: its output buffer ${fmtShape(shape)}`);
    // A layer no engine implements is refused by buildPlan with its own message.
    const sizes = engineFor(l)?.planSizes(l, q) ?? { weights: 0, taps: 0 };
    if (sizes.weights > 0) budget.take(sizes.weights, PLAN_BYTES.weight, `${what}: its weight ROM`);
    budget.take(sizes.taps, PLAN_BYTES.tap, `${what}: its window table`);
  }
}

const shapeCount = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

class UnionFind {
  private p = new Map<string, string>();
  find(a: string): string {
    const q = this.p.get(a);
    if (q === undefined || q === a) return a;
    const r = this.find(q);
    this.p.set(a, r);
    return r;
  }
  union(a: string, b: string): void {
    const x = this.find(a),
      y = this.find(b);
    if (x !== y) this.p.set(x, y);
  }
}

/**
 * Builds the plan for a quantized graph. Lane counts: conv/dense outputs get `pe` lanes (chosen by
 * the MAC budget), pools keep their input's lanes, and both operands of an add must share one lane
 * count (tied by a union-find, and raised together).
 */
/** The smallest --macs budget buildPlan accepts: one multiplier per folded (conv/dense) engine. */
export function minimumMacs(q: QGraph): number {
  return q.layers.filter((l) => l.op.kind !== 'flatten' && engineFor(l)?.fold).length;
}

/** Foldings already found (see buildPlan), least recently used first. */
const FOLD_MEMO = new Map<string, number[]>();
const FOLD_MEMO_SIZE = 256;
function rememberFold(key: string, values: number[]): void {
  FOLD_MEMO.delete(key);
  FOLD_MEMO.set(key, values);
  if (FOLD_MEMO.size > FOLD_MEMO_SIZE) FOLD_MEMO.delete(FOLD_MEMO.keys().next().value!);
}

export function buildPlan(q: QGraph, opts: PlanOptions = {}): HwPlan {
  const budget = opts.macs ?? DEFAULT_MACS;
  if (!Number.isInteger(budget) || budget < 1) throw new FxpqError(`--macs must be a positive integer, got ${budget}`);

  for (const [t, v] of Object.entries(q.values)) {
    if (v.shape.some((d) => d < 1)) throw new FxpqError(`tensor '${t}' has the empty shape [${v.shape.join(', ')}]`);
  }
  checkPlanMemory(q, opts.model);
  // Resolve aliases: flatten output is its input's buffer, viewed as the same [C, H, W].
  const alias = new Map<string, string>();
  const root = (t: string): string => alias.get(t) ?? t;
  const compute: { l: QLayer; m: EngineModule<EnginePlan> }[] = [];
  for (const l of q.layers) {
    if (l.op.kind === 'flatten') {
      alias.set(l.output, root(l.inputs[0]));
      continue;
    }
    const m = engineFor(l);
    if (m) {
      compute.push({ l, m });
      continue;
    }
    const what =
      l.op.kind === 'pad'
        ? 'a Pad that could not be merged into the next convolution'
        : l.op.kind === 'conv'
          ? `grouped convolution (group ${l.op.group})`
          : l.op.kind;
    throw new UnsupportedError(`layer '${l.name}': ${what} is not supported by the generator`);
  }
  if (compute.length === 0) throw new UnsupportedError('the model has no layer that computes anything');
  const outT = root(q.output);
  if (outT === root(q.input)) throw new UnsupportedError('the model output is its input');

  // Lane constraints: engines with free lanes choose their output's (pe); tied engines share one
  // lane count between their inputs and output.
  const uf = new UnionFind();
  for (const { l, m } of compute) {
    if (m.lanes !== 'tied') continue;
    const ins = l.inputs.map(root);
    if (new Set(ins).size !== ins.length)
      throw new UnsupportedError(`layer '${l.name}': reading one tensor twice (${l.op.kind}) is not supported by the generator`);
    for (const t of ins) uf.union(t, ins[0]);
    uf.union(l.output, ins[0]);
  }
  // The input is written one element per cycle by the loader: one lane.
  const groups = new Map<string, { tensors: string[] }>();
  const tensorsOf = [root(q.input), ...compute.map(({ l }) => l.output)];
  for (const t of tensorsOf) {
    const g = uf.find(t);
    if (!groups.has(g)) groups.set(g, { tensors: [] });
    groups.get(g)!.tensors.push(t);
  }
  const inputGroup = uf.find(root(q.input));

  // Allowed lane counts of a group: divisors of every channel count in it.
  const chOf = (t: string) => chw(q.values[t].shape)[0];
  const lanes = new Map<string, number>();
  const options = new Map<string, number[]>();
  for (const [g, info] of groups) {
    let opts2 = divisors(chOf(info.tensors[0]));
    for (const t of info.tensors) opts2 = opts2.filter((d) => chOf(t) % d === 0);
    options.set(g, g === inputGroup ? [1] : opts2);
    lanes.set(g, 1);
  }
  for (const { l, m } of compute) {
    const lim = m.laneDivides?.(l);
    const limit = (t: string, n: number | undefined) => {
      const g = uf.find(t);
      if (n !== undefined)
        options.set(
          g,
          options.get(g)!.filter((d) => n % d === 0),
        );
    };
    limit(root(l.inputs[0]), lim?.input);
    limit(l.output, lim?.output);
  }
  const folded = compute.filter(({ m }) => m.fold);
  if (budget < folded.length)
    throw new FxpqError(`--macs ${budget} cannot fit the design: it needs at least ${folded.length} (one multiplier per conv/dense layer)`);

  // A folded engine's multipliers and cycles follow from the lanes of its buffers and its SIMD
  // width: for conv/dense pe = lanes of its output buffer (one word written per output pixel),
  // simd = a divisor of its input buffer's lanes (a word is consumed over lanes / simd cycles).
  const geo = folded.map(({ l, m }) => {
    const inT = root(l.inputs[0]);
    const g = m.fold!.geometry(l, chw(q.values[inT].shape), chw(q.values[l.output].shape));
    return { name: l.name, m, simd: m.simd, inG: uf.find(inT), outG: uf.find(l.output), g };
  });
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  // Folding variables: lanes per tensor group and requested simd per layer.
  const vars = new Map<string, number>();
  const varOpts = new Map<string, number[]>();
  for (const [g] of groups)
    if (g !== inputGroup && options.get(g)!.length > 1) {
      vars.set(`g:${g}`, 1);
      varOpts.set(`g:${g}`, options.get(g)!);
    }
  for (const g of geo)
    if (g.simd && g.inG !== inputGroup && g.g.cin > 1) {
      vars.set(`s:${g.name}`, 1);
      varOpts.set(`s:${g.name}`, divisors(g.g.cin));
    }
  const lanesOf = (g: string) => vars.get(`g:${g}`) ?? 1;
  const simdOf = (l: (typeof geo)[number]) => gcd(vars.get(`s:${l.name}`) ?? 1, lanesOf(l.inG));
  const cost = () => {
    let mults = 0,
      cycles = 0;
    for (const g of geo) {
      const c = g.m.fold!.cost(g.g, lanesOf(g.inG), lanesOf(g.outG), simdOf(g));
      mults += c.mults;
      cycles += c.cycles;
    }
    return { mults, cycles };
  };
  // Minimise the summed cycles (layers run in sequence, so that is the latency) within the budget:
  // greedy steps to any larger value, best cycles saved per added multiplier first, then pairwise
  // exchanges (one variable down, another up) while they help, since costs are coupled.
  const keys = [...vars.keys()];
  const foldVars = (): void => {
    let now = cost();
    for (;;) {
      let best: { k: string; d: number; c: { mults: number; cycles: number }; gain: number } | null = null;
      for (const k of keys) {
        const cur = vars.get(k)!;
        for (const d of varOpts.get(k)!) {
          if (d <= cur) continue;
          vars.set(k, d);
          const c = cost();
          vars.set(k, cur);
          if (c.mults > budget || c.cycles >= now.cycles) continue;
          const gain = (now.cycles - c.cycles) / Math.max(c.mults - now.mults, 0.5);
          if (!best || gain > best.gain) best = { k, d, c, gain };
        }
      }
      if (!best) break;
      vars.set(best.k, best.d);
      now = best.c;
    }
    for (let improved = true, rounds = 0; improved && rounds < 20; rounds++) {
      improved = false;
      for (const k1 of keys) {
        for (const d1 of varOpts.get(k1)!) {
          for (const k2 of keys) {
            if (k2 === k1) continue;
            for (const d2 of varOpts.get(k2)!) {
              const c1 = vars.get(k1)!,
                c2 = vars.get(k2)!;
              if (d1 === c1 && d2 === c2) continue;
              vars.set(k1, d1);
              vars.set(k2, d2);
              const c = cost();
              if (c.mults <= budget && (c.cycles < now.cycles || (c.cycles === now.cycles && c.mults < now.mults))) {
                now = c;
                improved = true;
              } else {
                vars.set(k1, c1);
                vars.set(k2, c2);
              }
            }
          }
        }
      }
    }
  };
  // The folding sees shapes and the budget, never bit widths: a search that prices hundreds of
  // configurations of one network (src/search/device-cost.ts) folds it once per budget.
  const foldKey = JSON.stringify([
    budget,
    geo.map((g) => [g.name, g.m.kind, g.simd, g.inG, g.outG, g.g]),
    keys.map((k) => [k, varOpts.get(k)]),
  ]);
  const memo = FOLD_MEMO.get(foldKey);
  if (memo) memo.forEach((v, i) => vars.set(keys[i], v));
  else foldVars();
  rememberFold(
    foldKey,
    keys.map((k) => vars.get(k)!),
  );
  for (const [g] of groups) lanes.set(g, lanesOf(g));
  const simdByLayer = new Map(geo.map((g) => [g.name, simdOf(g)]));

  // Buffers.
  const buffers: BufferPlan[] = [];
  const bufOf = new Map<string, number>();
  const addBuffer = (t: string, producer: number) => {
    const [c, h, w] = chw(q.values[t].shape);
    const ln = lanes.get(uf.find(t))!;
    const f = q.values[t].format;
    const words = (c / ln) * h * w;
    bufOf.set(t, buffers.length);
    buffers.push({
      id: buffers.length,
      tensor: t,
      c,
      h,
      w,
      lanes: ln,
      format: f,
      words,
      wordBits: ln * f.wl,
      addrBits: clog2(words),
      kind: 'ram',
      producer,
      consumers: [],
    });
  };
  addBuffer(root(q.input), -1);

  const engines: EnginePlan[] = [];
  compute.forEach(({ l, m }, i) => {
    addBuffer(l.output, i);
    const ins = l.inputs.map((t) => bufOf.get(root(t))!);
    for (const b of ins) buffers[b].consumers.push(i);
    const outB = buffers[bufOf.get(l.output)!];
    const id = `l${String(i).padStart(2, '0')}_${l.op.kind}`;
    const base = { index: i, id, layer: l.name, inputs: ins, output: outB.id };
    const e = m.build({ q, layer: l, base, inputs: ins.map((b) => buffers[b]), output: outB, simd: simdByLayer.get(l.name) ?? 1 });
    e.cycles = engineCycles(e);
    engines.push(e);
  });

  const inBuf = buffers[0],
    outBuf = buffers[bufOf.get(outT)!];
  const inElems = size(q.values[q.input].shape),
    outElems = outBuf.c * outBuf.h * outBuf.w;
  const weightStore = opts.weights === 'load' ? planWeightStore(engines, inBuf.format.wl) : undefined;
  const latency =
    inElems +
    LOAD_TO_START_CYCLES +
    engines.reduce((s, e) => s + e.cycles, 0) +
    HANDOFF_CYCLES * engines.length +
    SEND_FETCH_CYCLES +
    outElems;
  const weightBits = engines.reduce((s, e) => s + engineModule(e).romBits(e), 0);
  return {
    model: opts.model ?? 'model',
    buffers,
    engines,
    input: { buffer: inBuf.id, elements: inElems, format: inBuf.format },
    output: { buffer: outBuf.id, elements: outElems, format: outBuf.format },
    macs: engines.reduce((s, e) => s + engineModule(e).budgetMultipliers(e), 0),
    macBudget: budget,
    latency,
    interval: latency,
    memoryBits: { activations: buffers.reduce((s, b) => s + b.words * b.wordBits, 0), weights: weightBits },
    ...(weightStore ? { weightStore } : {}),
  };
}

/** AXI4-Stream TDATA is a whole number of bytes. */
export const streamBits = (wl: number): number => 8 * Math.ceil(wl / 8);

/**
 * The shared weight store (plan-types.ts WeightStore): the engines' weight ROMs laid end to end in
 * engine order, loaded in beats as wide as the input stream's TDATA.
 */
function planWeightStore(engines: readonly EnginePlan[], inputBits: number): WeightStore {
  const regions: WeightStore['regions'] = [];
  let depth = 0;
  for (const e of engines) {
    const w = engineModule(e).weightWords?.(e);
    if (!w) continue;
    regions.push({ engine: e.index, base: depth, words: w.words, bits: w.bits });
    depth += w.words;
  }
  if (regions.length === 0) throw new UnsupportedError('--weights load: the model has no layer with weights');
  const wordBits = WEIGHT_STORE_GRAIN * Math.ceil(Math.max(...regions.map((r) => r.bits)) / WEIGHT_STORE_GRAIN);
  const beatBits = streamBits(inputBits);
  const beatsPerWord = Math.ceil(wordBits / beatBits);
  return { wordBits, depth, addrBits: clog2(depth), beatBits, beatsPerWord, beats: depth * beatsPerWord, regions };
}
