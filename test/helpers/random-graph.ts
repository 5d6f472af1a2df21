import { type FxFormat, maxInt, minInt } from '../../src/fixed/format.js';
import { convOutHW, poolOutHW } from '../../src/ir/geometry.js';
import type { Activation, QGraph, QLayer, QOp } from '../../src/quant/qgraph.js';

/** Random small quantized graphs (formats, shapes, weights) for property tests. */
export type Rnd = () => number;
export const mk = (seed: number): Rnd => {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
};
export const int = (r: Rnd, a: number, b: number) => a + Math.floor(r() * (b - a + 1));
const ints = (r: Rnd, n: number, f: FxFormat) => Int32Array.from({ length: n }, () => int(r, minInt(f), maxInt(f)));
const fmt = (r: Rnd, signed = r() < 0.5): FxFormat => ({ wl: int(r, signed ? 2 : 1, 16), fl: int(r, -4, 18), signed });
function act(r: Rnd, out: FxFormat): Activation {
  const k = int(r, 0, 2);
  if (k === 0) return { kind: 'none' };
  if (k === 1) return { kind: 'relu' };
  const lo = int(r, minInt(out), 0),
    hi = int(r, lo, maxInt(out));
  return { kind: 'clip', lo, hi, min: lo, max: hi };
}

/** A random one- or two-layer graph exercising `kind`; `groups: false` keeps convolutions ungrouped. */
export function randomGraph(kind: QOp['kind'], seed: number, opts: { groups?: boolean } = {}): QGraph {
  const r = mk(seed);
  const inF = fmt(r);
  const C = int(r, 1, 4),
    H = int(r, 1, 7),
    W = int(r, 1, 7);
  const values: QGraph['values'] = { x: { shape: [C, H, W], format: inF } };
  const layers: QLayer[] = [];
  const geo = () => {
    const kernel: [number, number] = [int(r, 1, Math.min(3, H + 1)), int(r, 1, Math.min(3, W + 1))];
    const pads: [number, number, number, number] = [
      int(r, 0, kernel[0] - 1),
      int(r, 0, kernel[1] - 1),
      int(r, 0, kernel[0] - 1),
      int(r, 0, kernel[1] - 1),
    ];
    const strides: [number, number] = [int(r, 1, 2), int(r, 1, 2)];
    const dilations: [number, number] = [1, 1];
    return { kernel, pads, strides, dilations, ceilMode: false };
  };
  const convLayer = (name: string, input: string, cin: number): QLayer => {
    const g = geo();
    const group = opts.groups !== false && cin % 2 === 0 && r() < 0.3 ? 2 : 1;
    const cout = group * int(r, 1, 3);
    const wF = fmt(r, true),
      out = fmt(r);
    const bF = { wl: int(r, 2, 16), fl: wF.fl + values[input].format.fl - int(r, 0, 6), signed: true };
    const [h, w] = [values[input].shape[1], values[input].shape[2]];
    const dil: [number, number] = [int(r, 1, 2), int(r, 1, 2)];
    const [ho, wo] = convOutHW(h, w, g.kernel, g.strides, g.pads, dil);
    if (ho < 1 || wo < 1) {
      g.pads = [g.kernel[0] - 1, g.kernel[1] - 1, g.kernel[0] - 1, g.kernel[1] - 1];
      dil[0] = dil[1] = 1;
    }
    const [ho2, wo2] = convOutHW(h, w, g.kernel, g.strides, g.pads, dil);
    values[name] = { shape: [cout, ho2, wo2], format: out };
    return {
      name,
      inputs: [input],
      output: name,
      op: {
        kind: 'conv',
        weight: { shape: [cout, cin / group, ...g.kernel], data: ints(r, cout * (cin / group) * g.kernel[0] * g.kernel[1], wF) },
        bias: ints(r, cout, bF),
        weightFormat: wF,
        biasFormat: bF,
        strides: g.strides,
        pads: g.pads,
        dilations: dil,
        group,
        act: act(r, out),
      },
    };
  };
  switch (kind) {
    case 'conv':
      layers.push(convLayer('y', 'x', C));
      break;
    case 'dense': {
      layers.push({ name: 'f', inputs: ['x'], output: 'f', op: { kind: 'flatten' } });
      values.f = { shape: [C * H * W], format: inF };
      const O = int(r, 1, 6),
        wF = fmt(r, true),
        out = fmt(r);
      const bF = { wl: int(r, 2, 16), fl: wF.fl + inF.fl - int(r, 0, 6), signed: true };
      values.y = { shape: [O], format: out };
      layers.push({
        name: 'y',
        inputs: ['f'],
        output: 'y',
        op: {
          kind: 'dense',
          weight: { shape: [O, C * H * W], data: ints(r, O * C * H * W, wF) },
          bias: ints(r, O, bF),
          weightFormat: wF,
          biasFormat: bF,
          act: act(r, out),
        },
      });
      break;
    }
    case 'maxpool':
    case 'avgpool': {
      const g = geo();
      const [ho, wo] = poolOutHW(H, W, g);
      values.y = { shape: [C, ho, wo], format: kind === 'maxpool' ? inF : fmt(r) };
      layers.push({
        name: 'y',
        inputs: ['x'],
        output: 'y',
        op: kind === 'maxpool' ? { kind, ...g } : { kind, ...g, countIncludePad: r() < 0.5, recipBits: int(r, 4, 16) },
      });
      break;
    }
    case 'gap':
      values.y = { shape: [C, 1, 1], format: fmt(r) };
      layers.push({ name: 'y', inputs: ['x'], output: 'y', op: { kind: 'gap', recipBits: int(r, 4, 16) } });
      break;
    case 'add': {
      // A 1x1 convolution gives the second operand its own format, then the two are added.
      const c = convLayer('b', 'x', C);
      const op = c.op as Extract<QOp, { kind: 'conv' }>;
      op.weight = { shape: [C, C, 1, 1], data: ints(r, C * C, op.weightFormat) };
      op.bias = op.bias.length === C ? op.bias : ints(r, C, op.biasFormat);
      op.strides = [1, 1];
      op.pads = [0, 0, 0, 0];
      op.dilations = [1, 1];
      op.group = 1;
      values.b = { shape: [C, H, W], format: values.b.format };
      layers.push(c);
      const out = fmt(r);
      values.y = { shape: [C, H, W], format: out };
      layers.push({ name: 'y', inputs: ['x', 'b'], output: 'y', op: { kind: 'add', act: act(r, out) } });
      break;
    }
    case 'pad': {
      const pads: [number, number, number, number] = [int(r, 0, 2), int(r, 0, 2), int(r, 0, 2), int(r, 0, 2)];
      values.y = { shape: [C, H + pads[0] + pads[2], W + pads[1] + pads[3]], format: inF };
      layers.push({ name: 'y', inputs: ['x'], output: 'y', op: { kind: 'pad', pads } });
      break;
    }
    case 'flatten':
      values.y = { shape: [C * H * W], format: inF };
      layers.push({ name: 'y', inputs: ['x'], output: 'y', op: { kind: 'flatten' } });
      break;
  }
  return { input: 'x', output: 'y', layers, values };
}

/**
 * A 1x1 convolution (so the grouped layer's input can have several lanes) followed by a grouped
 * convolution: `groups` 'depthwise' for one group per channel and one output per group, or a
 * group count with 1..2 input and 1..2 output channels per group.
 */
export function randomGroupedGraph(groups: 'depthwise' | number, seed: number): QGraph {
  const r = mk(seed);
  const inF = fmt(r);
  const C0 = int(r, 1, 3),
    H = int(r, 1, 6),
    W = int(r, 1, 6);
  const G = groups === 'depthwise' ? int(r, 1, 8) : groups;
  const cinG = groups === 'depthwise' ? 1 : int(r, 1, 2),
    coutG = groups === 'depthwise' ? 1 : int(r, 1, 2);
  const C = G * cinG,
    cout = G * coutG;
  const values: QGraph['values'] = { x: { shape: [C0, H, W], format: inF } };
  const mid = fmt(r),
    aW = fmt(r, true);
  const aB = { wl: int(r, 2, 16), fl: aW.fl + inF.fl - int(r, 0, 6), signed: true };
  values.a = { shape: [C, H, W], format: mid };
  const a: QLayer = {
    name: 'a',
    inputs: ['x'],
    output: 'a',
    op: {
      kind: 'conv',
      weight: { shape: [C, C0, 1, 1], data: ints(r, C * C0, aW) },
      bias: ints(r, C, aB),
      weightFormat: aW,
      biasFormat: aB,
      strides: [1, 1],
      pads: [0, 0, 0, 0],
      dilations: [1, 1],
      group: 1,
      act: act(r, mid),
    },
  };
  const kernel: [number, number] = [int(r, 1, Math.min(3, H + 1)), int(r, 1, Math.min(3, W + 1))];
  let pads: [number, number, number, number] = [
    int(r, 0, kernel[0] - 1),
    int(r, 0, kernel[1] - 1),
    int(r, 0, kernel[0] - 1),
    int(r, 0, kernel[1] - 1),
  ];
  const strides: [number, number] = [int(r, 1, 2), int(r, 1, 2)];
  const dil: [number, number] = [int(r, 1, 2), int(r, 1, 2)];
  if (convOutHW(H, W, kernel, strides, pads, dil).some((d) => d < 1)) {
    pads = [kernel[0] - 1, kernel[1] - 1, kernel[0] - 1, kernel[1] - 1];
    dil[0] = dil[1] = 1;
  }
  const [ho, wo] = convOutHW(H, W, kernel, strides, pads, dil);
  const wF = fmt(r, true),
    out = fmt(r);
  const bF = { wl: int(r, 2, 16), fl: wF.fl + mid.fl - int(r, 0, 6), signed: true };
  values.y = { shape: [cout, ho, wo], format: out };
  const y: QLayer = {
    name: 'y',
    inputs: ['a'],
    output: 'y',
    op: {
      kind: 'conv',
      weight: { shape: [cout, cinG, ...kernel], data: ints(r, cout * cinG * kernel[0] * kernel[1], wF) },
      bias: ints(r, cout, bF),
      weightFormat: wF,
      biasFormat: bF,
      strides,
      pads,
      dilations: dil,
      group: G,
      act: act(r, out),
    },
  };
  return { input: 'x', output: 'y', layers: [a, y], values };
}

/**
 * 2 to 4 branches (1x1 convolutions of the input with their own output formats, or, when
 * `useInput`, the input itself as one of them) joined by a Concat along the channels; with
 * `vectors`, dense branches of a flattened input joined as features.
 */
export function randomConcatGraph(seed: number, opts: { vectors?: boolean } = {}): QGraph {
  const r = mk(seed);
  const inF = fmt(r);
  const C0 = int(r, 1, 3),
    H = opts.vectors ? 1 : int(r, 1, 5),
    W = opts.vectors ? 1 : int(r, 1, 5);
  const values: QGraph['values'] = { x: { shape: [C0, H, W], format: inF } };
  const layers: QLayer[] = [];
  let src = 'x',
    srcShape = [C0, H, W];
  if (opts.vectors) {
    layers.push({ name: 'f', inputs: ['x'], output: 'f', op: { kind: 'flatten' } });
    values.f = { shape: [C0 * H * W], format: inF };
    src = 'f';
    srcShape = [C0 * H * W];
  }
  const n = int(r, 2, 4);
  const useInput = !opts.vectors && r() < 0.25;
  // Channels per branch share a factor, so that the joined buffers can hold several lanes a word.
  const g = [1, 2, 4][int(r, 0, 2)];
  const branches: string[] = [];
  for (let k = 0; k < n; k++) {
    if (k === 0 && useInput) {
      branches.push('x');
      continue;
    }
    const name = `b${k}`,
      C = g * int(r, 1, 2),
      wF = fmt(r, true),
      out = fmt(r);
    const bF = { wl: int(r, 2, 16), fl: wF.fl + inF.fl - int(r, 0, 6), signed: true };
    const fan = srcShape[0];
    layers.push(
      opts.vectors
        ? {
            name,
            inputs: [src],
            output: name,
            op: {
              kind: 'dense',
              weight: { shape: [C, fan], data: ints(r, C * fan, wF) },
              bias: ints(r, C, bF),
              weightFormat: wF,
              biasFormat: bF,
              act: act(r, out),
            },
          }
        : {
            name,
            inputs: [src],
            output: name,
            op: {
              kind: 'conv',
              weight: { shape: [C, fan, 1, 1], data: ints(r, C * fan, wF) },
              bias: ints(r, C, bF),
              weightFormat: wF,
              biasFormat: bF,
              strides: [1, 1],
              pads: [0, 0, 0, 0],
              dilations: [1, 1],
              group: 1,
              act: act(r, out),
            },
          },
    );
    values[name] = { shape: opts.vectors ? [C] : [C, H, W], format: out };
    branches.push(name);
  }
  const total = branches.reduce((s, b) => s + values[b].shape[0], 0);
  values.y = { shape: opts.vectors ? [total] : [total, H, W], format: fmt(r) };
  layers.push({ name: 'y', inputs: branches, output: 'y', op: { kind: 'concat' } });
  return { input: 'x', output: 'y', layers, values };
}
