import { existsSync, readFileSync } from 'node:fs';
import { dict } from '../util/dict.js';
import { type FxFormat, maxInt, minInt } from '../fixed/format.js';
import { convOutHW } from '../ir/geometry.js';
import { rng } from '../onnx/builder.js';
import type { Activation, QGraph, QLayer } from '../quant/qgraph.js';

/**
 * What every microbenchmark shares: the spec that fully determines a design (weights come from
 * the seeded generator, so calibration data stores specs, not graphs) and the network around the
 * measured layer. Each engine describes its own measured layers and spec sets next to its code
 * (src/hw/engines/<kind>/microbench.ts); src/calibration/microbench.ts puts them together.
 */
/**
 * Whether bench/estimator-collect.ts synthesizes a family's microbenchmarks with their hierarchy
 * kept (per-module figures: xc7, ECP5) or flattened as users synthesize (iCE40, whose data holds
 * totals only). The fit and the tests estimate those records the same way.
 */
export const synthesizedHierarchically = (target: string): boolean => !target.startsWith('ice40');

export interface MicroSpec {
  /** The measured layer's kind: conv, dense, maxpool, avgpool, gap, add, depthwise, concat, ... */
  kind: string;
  seed: number;
  /** Word lengths of the measured layer's weights and input, and whether the input is signed. */
  wlW: number;
  wlIn: number;
  signedIn: boolean;
  /** Channels in and out of the measured layer, feature map size, kernel. */
  cin: number;
  cout: number;
  hw: number;
  k: number;
  /** Multiplier budget given to the plan. */
  macs: number;
  /** conv: convolution groups (cin and cout multiples of it); 1 when absent. */
  group?: number;
}

export const fmt = (wl: number, fl: number, signed: boolean): FxFormat => ({ wl, fl, signed });
export const relu: Activation = { kind: 'relu' };

/**
 * The network a measured layer is added to: input `x` (1 x hw x hw, 8 bits), then a first 3x3
 * convolution `a` with `cin` channels in format `mid` (wlIn bits), so that the measured layer reads
 * a multi-lane buffer (its SIMD can exceed 1). The measured part ends in value `y`.
 */
export interface MicroNet {
  values: QGraph['values'];
  layers: QLayer[];
  /** Uniform random integers of a format, from the spec's generator (call order fixes the design). */
  ints(n: number, f: FxFormat): Int32Array;
  /** A stride-1, same-padded convolution layer named `name` (its output value recorded). */
  conv(name: string, input: string, cin: number, cout: number, k: number, wF: FxFormat, out: FxFormat, act: Activation): QLayer;
  /** Format of `a`, of the measured layer's output, and of its weights. */
  mid: FxFormat;
  out: FxFormat;
  wF: FxFormat;
}

export function microNet(s: MicroSpec): MicroNet {
  const r = rng(s.seed);
  const ints = (n: number, f: FxFormat) => Int32Array.from({ length: n }, () => minInt(f) + Math.floor(r() * (maxInt(f) - minInt(f) + 1)));
  const values = dict<QGraph['values'][string]>();
  const layers: QLayer[] = [];
  values.x = { shape: [1, s.hw, s.hw], format: fmt(8, 0, false) };
  const mid = fmt(s.wlIn, s.wlIn - 3, s.signedIn);
  const conv: MicroNet['conv'] = (name, input, cin, cout, k, wF, out, act) => {
    const [h, w] = [values[input].shape[1], values[input].shape[2]];
    const p = (k - 1) >> 1;
    const [ho, wo] = convOutHW(h, w, [k, k], [1, 1], [p, p, p, p], [1, 1]);
    values[name] = { shape: [cout, ho, wo], format: out };
    const bF = fmt(Math.min(16, wF.wl + values[input].format.wl), wF.fl + values[input].format.fl, true);
    return {
      name,
      inputs: [input],
      output: name,
      op: {
        kind: 'conv',
        weight: { shape: [cout, cin, k, k], data: ints(cout * cin * k * k, wF) },
        bias: ints(cout, bF),
        weightFormat: wF,
        biasFormat: bF,
        strides: [1, 1],
        pads: [p, p, p, p],
        dilations: [1, 1],
        group: 1,
        act,
      },
    };
  };
  layers.push(conv('a', 'x', 1, s.cin, 3, fmt(6, 4, true), mid, s.signedIn ? { kind: 'none' } : relu));
  return { values, layers, ints, conv, mid, out: fmt(8, 2, true), wF: fmt(s.wlW, s.wlW - 2, true) };
}

/**
 * An engine's microbenchmarks: the measured layer kinds it builds, how (adding layers that end in
 * value `y` to the network), and spec sets of its own (`estimator-collect --set NAME`).
 */
export interface MicroBench {
  readonly kinds: readonly string[];
  build(s: MicroSpec, n: MicroNet): void;
  readonly sets?: Readonly<Record<string, (count: number) => MicroSpec[]>>;
}

/** A deterministic chooser over a seeded generator. */
export function chooser(seed: number): { r: () => number; pick: <T>(xs: readonly T[]) => T } {
  const r = rng(seed);
  return { r, pick: <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] };
}

/** Seeds of the microbenchmarks a collector has already recorded in its JSON-lines file (none when absent), so a rerun resumes. */
export function recordedSeeds(file: string): Set<number> {
  if (!existsSync(file)) return new Set();
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return new Set(lines.map((l) => (JSON.parse(l) as { spec: { seed: number } }).spec.seed));
}
