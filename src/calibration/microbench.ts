import { dict } from '../util/dict.js';
import { type FxFormat, maxInt, minInt } from '../fixed/format.js';
import { convOutHW } from '../ir/geometry.js';
import { rng } from '../onnx/builder.js';
import type { Activation, QGraph, QLayer } from '../quant/qgraph.js';

/**
 * Small quantized networks that exercise one kind of hardware block at chosen word lengths and
 * parallelism, for calibrating the resource estimator against synthesis. A spec fully determines
 * its graph (weights come from the seeded generator), so calibration data stores specs, not graphs.
 */
export interface MicroSpec {
  kind: 'conv' | 'dense' | 'maxpool' | 'avgpool' | 'gap' | 'add' | 'depthwise' | 'concat';
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

const fmt = (wl: number, fl: number, signed: boolean): FxFormat => ({ wl, fl, signed });
const relu: Activation = { kind: 'relu' };

/**
 * The graph of a spec: a first 3x3 convolution (one input channel) produces the measured layer's
 * input with `cin` channels in format wlIn, so the measured layer reads a multi-lane buffer (its
 * SIMD can exceed 1), then the measured layer.
 */
export function microGraph(s: MicroSpec): QGraph {
  const r = rng(s.seed);
  const ints = (n: number, f: FxFormat) => Int32Array.from({ length: n }, () => minInt(f) + Math.floor(r() * (maxInt(f) - minInt(f) + 1)));
  const values = dict<QGraph['values'][string]>();
  const layers: QLayer[] = [];
  const inF = fmt(8, 0, false);
  values.x = { shape: [1, s.hw, s.hw], format: inF };
  const mid = fmt(s.wlIn, s.wlIn - 3, s.signedIn);
  const w1 = fmt(6, 4, true);
  const conv = (
    name: string,
    input: string,
    cin: number,
    cout: number,
    k: number,
    wF: FxFormat,
    out: FxFormat,
    act: Activation,
  ): QLayer => {
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
  layers.push(conv('a', 'x', 1, s.cin, 3, w1, mid, s.signedIn ? { kind: 'none' } : relu));
  const out = fmt(8, 2, true);
  const wF = fmt(s.wlW, s.wlW - 2, true);
  switch (s.kind) {
    case 'conv': {
      const y = conv('y', 'a', s.cin, s.cout, s.k, wF, out, relu);
      const G = s.group ?? 1;
      if (G > 1 && y.op.kind === 'conv') {
        y.op.group = G;
        y.op.weight = { shape: [s.cout, s.cin / G, s.k, s.k], data: ints(s.cout * (s.cin / G) * s.k * s.k, wF) };
      }
      layers.push(y);
      break;
    }
    case 'dense': {
      layers.push({ name: 'f', inputs: ['a'], output: 'f', op: { kind: 'flatten' } });
      const n = s.cin * s.hw * s.hw;
      values.f = { shape: [n], format: mid };
      values.y = { shape: [s.cout], format: out };
      const bF = fmt(16, wF.fl + mid.fl, true);
      layers.push({
        name: 'y',
        inputs: ['f'],
        output: 'y',
        op: {
          kind: 'dense',
          weight: { shape: [s.cout, n], data: ints(s.cout * n, wF) },
          bias: ints(s.cout, bF),
          weightFormat: wF,
          biasFormat: bF,
          act: { kind: 'none' },
        },
      });
      break;
    }
    case 'maxpool':
    case 'avgpool': {
      const ho = Math.floor(s.hw / s.k);
      values.y = { shape: [s.cin, ho, ho], format: s.kind === 'maxpool' ? mid : out };
      const g = {
        kernel: [s.k, s.k] as [number, number],
        strides: [s.k, s.k] as [number, number],
        pads: [0, 0, 0, 0] as [number, number, number, number],
        dilations: [1, 1] as [number, number],
        ceilMode: false,
      };
      layers.push({
        name: 'y',
        inputs: ['a'],
        output: 'y',
        op: s.kind === 'maxpool' ? { kind: 'maxpool', ...g } : { kind: 'avgpool', ...g, countIncludePad: true, recipBits: 12 },
      });
      break;
    }
    case 'gap':
      values.y = { shape: [s.cin, 1, 1], format: out };
      layers.push({ name: 'y', inputs: ['a'], output: 'y', op: { kind: 'gap', recipBits: 12 } });
      break;
    case 'depthwise': {
      const k = s.k,
        p = (k - 1) >> 1;
      values.y = { shape: [s.cin, s.hw, s.hw], format: out };
      const bF = fmt(Math.min(16, wF.wl + mid.wl), wF.fl + mid.fl, true);
      layers.push({
        name: 'y',
        inputs: ['a'],
        output: 'y',
        op: {
          kind: 'conv',
          weight: { shape: [s.cin, 1, k, k], data: ints(s.cin * k * k, wF) },
          bias: ints(s.cin, bF),
          weightFormat: wF,
          biasFormat: bF,
          strides: [1, 1],
          pads: [p, p, p, p],
          dilations: [1, 1],
          group: s.cin,
          act: relu,
        },
      });
      break;
    }
    case 'concat': {
      // The measured layer joins the first layer's output with a 1x1 convolution of it (cout
      // channels in its own format); a global average pooling reads it, so that it sits in a RAM
      // as a concatenation inside a network does (the network output is a register file).
      layers.push(conv('b', 'a', s.cin, s.cout, 1, wF, fmt(s.wlW, s.wlW - 3, true), { kind: 'none' }));
      values.c = { shape: [s.cin + s.cout, s.hw, s.hw], format: out };
      layers.push({ name: 'c', inputs: ['a', 'b'], output: 'c', op: { kind: 'concat' } });
      values.y = { shape: [s.cin + s.cout, 1, 1], format: out };
      layers.push({ name: 'y', inputs: ['c'], output: 'y', op: { kind: 'gap', recipBits: 12 } });
      break;
    }
    case 'add': {
      layers.push(conv('b', 'a', s.cin, s.cin, 1, wF, fmt(s.wlW, s.wlW - 3, true), { kind: 'none' }));
      values.y = { shape: [s.cin, s.hw, s.hw], format: out };
      layers.push({ name: 'y', inputs: ['a', 'b'], output: 'y', op: { kind: 'add', act: relu } });
      break;
    }
  }
  return { input: 'x', output: 'y', layers, values };
}

/** A deterministic spread of specs over word lengths 2..16, parallelism and sizes. */
export function microSpecs(count: number, seed = 1): MicroSpec[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const wls = [2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16];
  const kinds: MicroSpec['kind'][] = ['conv', 'conv', 'conv', 'dense', 'dense', 'maxpool', 'avgpool', 'gap', 'add'];
  const specs: MicroSpec[] = [];
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length];
    const cin = pick([1, 2, 4, 8, 16]);
    specs.push({
      kind,
      seed: 1000 + i,
      wlW: pick(wls),
      wlIn: pick(wls),
      signedIn: r() < 0.4,
      cin,
      cout: pick([2, 4, 8, 16]),
      hw: pick([4, 6, 8]),
      k: kind === 'conv' ? pick([1, 3]) : 2,
      macs: pick([2, 4, 8, 16, 32, 64]),
    });
  }
  return specs;
}

/**
 * Wide SIMD lanes (8 and 16 products per output), which the spread above rarely reaches (its
 * multiplier budgets stop at 64): convolutions and dense layers with many input channels and few
 * outputs, so a large budget goes to SIMD. Seeds from 2000.
 */
export function simdSpecs(count: number, seed = 2): MicroSpec[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const wls = [3, 4, 5, 6, 8, 10, 12, 16];
  const specs: MicroSpec[] = [];
  for (let i = 0; i < count; i++) {
    const kind: MicroSpec['kind'] = i % 3 === 2 ? 'dense' : 'conv';
    specs.push({
      kind,
      seed: 2000 + i,
      wlW: pick(wls),
      wlIn: pick(wls),
      signedIn: r() < 0.4,
      cin: pick([8, 16]),
      cout: pick([2, 4]),
      hw: pick([4, 6]),
      k: kind === 'conv' ? 3 : 2,
      macs: pick([32, 64, 128]),
    });
  }
  return specs;
}

/**
 * Depthwise convolutions (seeds from 3000): 2..16 channels, 3x3 kernels, budgets that give the
 * channels 1 to all lanes.
 */
export function depthwiseSpecs(count: number, seed = 3): MicroSpec[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const wls = [2, 3, 4, 5, 6, 8, 10, 12, 16];
  return Array.from({ length: count }, (_, i) => {
    const cin = pick([2, 4, 8, 16]);
    return {
      kind: 'depthwise' as const,
      seed: 3000 + i,
      wlW: pick(wls),
      wlIn: pick(wls),
      signedIn: r() < 0.4,
      cin,
      cout: cin,
      hw: pick([4, 6, 8]),
      k: pick([3, 3, 5]),
      macs: pick([2, 4, 8, 16, 32]),
    };
  });
}

/** Grouped convolutions (seeds from 4000): 2 or 4 groups of 1..4 input and output channels. */
export function groupedSpecs(count: number, seed = 4): MicroSpec[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const wls = [2, 3, 4, 5, 6, 8, 10, 12, 16];
  return Array.from({ length: count }, (_, i) => {
    const group = pick([2, 4]);
    return {
      kind: 'conv' as const,
      seed: 4000 + i,
      wlW: pick(wls),
      wlIn: pick(wls),
      signedIn: r() < 0.4,
      cin: group * pick([2, 4]),
      cout: group * pick([1, 2, 4]),
      hw: pick([4, 6, 8]),
      k: pick([1, 3]),
      macs: pick([2, 4, 8, 16, 32]),
      group,
    };
  });
}

/** Concatenations (seeds from 5000): channel counts that share a factor, so that words hold 1 to 8 lanes. */
export function concatSpecs(count: number, seed = 5): MicroSpec[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const wls = [2, 3, 4, 5, 6, 8, 10, 12, 16];
  return Array.from({ length: count }, (_, i) => {
    const g = pick([1, 2, 4, 8]);
    return {
      kind: 'concat' as const,
      seed: 5000 + i,
      wlW: pick(wls),
      wlIn: pick(wls),
      signedIn: r() < 0.4,
      cin: g * pick([1, 2]),
      cout: g * pick([1, 2]),
      hw: pick([4, 6, 8]),
      k: 1,
      macs: pick([4, 8, 16, 32, 64]),
    };
  });
}
