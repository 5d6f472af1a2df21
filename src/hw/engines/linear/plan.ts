import { FxpqError } from '../../../errors.js';
import { type FxFormat, fmtText } from '../../../fixed/format.js';
import { actBounds } from '../../../intref/ops.js';
import { layerAccRange } from '../../../quant/acc-range.js';
import type { AccRange } from '../../../quant/accumulator.js';
import type { QLayer } from '../../../quant/qgraph.js';
import type { BuildContext, Chw, FoldGeometry } from '../../engine-module.js';
import { type EngineBase, type Window, wholeWindow } from '../../plan-types.js';
import { clog2 } from '../../verilog.js';

/** Conv or Dense: `pe` output channels times `simd` input channels (the input word's lanes) per cycle. */
export interface LinearEngine extends EngineBase {
  kind: 'linear';
  cin: number;
  cout: number;
  /** Convolution groups: output channel o reads input channels of group o / (cout / groups) only. */
  groups: number;
  pe: number;
  simd: number;
  win: Window;
  /** Taps per output pixel: (cin / groups / simd) * kh * kw; a tap is `simd` lanes of one input word. */
  k: number;
  inFormat: FxFormat;
  weightFormat: FxFormat;
  biasFormat: FxFormat;
  outFormat: FxFormat;
  acc: AccRange;
  /** Integer clamp of the fused activation (before saturation), from the QGraph. */
  actLo: number;
  actHi: number;
  /** Integer weights [cout][k] and biases already shifted to the accumulator's fraction length. */
  weights: Int32Array;
  alignedBias: number[];
}

/** Dense layers and convolutions, grouped ones included (each output channel reads only its group). */
export const acceptsLinear = (l: QLayer): boolean => l.op.kind === 'dense' || l.op.kind === 'conv';

const groupsOf = (l: QLayer): number => (l.op.kind === 'conv' ? l.op.group : 1);

/**
 * A grouped convolution's output word (pe channels) must lie in one group, and so must each input
 * word its taps read: the lane counts divide the channels per group.
 */
export function linearLaneDivides(l: QLayer): { input?: number; output?: number } {
  const op = l.op;
  if (op.kind !== 'conv' || op.group === 1) return {};
  return { input: op.weight.shape[1], output: op.weight.shape[0] / op.group };
}

/** A dense layer's window is its whole input: one output pixel, every input pixel a tap. cin: per group. */
export function linearGeometry(l: QLayer, [cin, h, w]: Chw, [cout, ho, wo]: Chw): FoldGeometry {
  const kk = l.op.kind === 'conv' ? l.op.weight.shape[2] * l.op.weight.shape[3] : h * w;
  return { cin: cin / groupsOf(l), cout, pix: ho * wo, kk };
}

/** pe = lanes of the output buffer (one word written per output pixel), simd = products per lane and cycle. */
export const linearCost = (g: FoldGeometry, _inLanes: number, pe: number, simd: number) => ({
  mults: pe * simd,
  cycles: (g.cout / pe) * g.pix * (g.cin / simd) * g.kk,
});

export function buildLinear({ q, layer: l, base, inputs: [inB], output: outB, simd }: BuildContext): LinearEngine {
  const op = l.op;
  if (op.kind !== 'conv' && op.kind !== 'dense') throw new Error(`linear engine: layer '${l.name}' is a ${op.kind}`);
  const acc = layerAccRange(q, l)!;
  const [lo, hi] = actBounds(op.act);
  const win: Window =
    op.kind === 'conv'
      ? {
          h: inB.h,
          w: inB.w,
          kh: op.weight.shape[2],
          kw: op.weight.shape[3],
          sh: op.strides[0],
          sw: op.strides[1],
          dh: op.dilations[0],
          dw: op.dilations[1],
          pt: op.pads[0],
          pl: op.pads[1],
          ho: outB.h,
          wo: outB.w,
        }
      : wholeWindow(inB.h, inB.w);
  const groups = groupsOf(l),
    cinG = inB.c / groups;
  const k = (cinG / simd) * win.kh * win.kw;
  if (op.weight.data.length !== outB.c * cinG * win.kh * win.kw)
    throw new FxpqError(`layer '${l.name}': weight count ${op.weight.data.length} does not match ${outB.c} x ${k}`);
  const sh = 2 ** (acc.fl - op.biasFormat.fl);
  const pe = outB.lanes;
  return {
    ...base,
    kind: 'linear',
    cin: inB.c,
    cout: outB.c,
    groups,
    pe,
    simd,
    win,
    k,
    inFormat: inB.format,
    weightFormat: op.weightFormat,
    biasFormat: op.biasFormat,
    outFormat: outB.format,
    acc,
    actLo: lo,
    actHi: hi,
    weights: op.weight.data,
    alignedBias: Array.from(op.bias, (b) => b * sh),
    cycles: 0,
    macs: outB.c * outB.h * outB.w * cinG * win.kh * win.kw,
    multipliers: pe * simd,
  };
}

export const linearTaps = (e: LinearEngine): number => (e.cout / e.pe) * e.win.ho * e.win.wo * e.k;

export const linearSummary = (e: LinearEngine): string =>
  `w ${fmtText(e.weightFormat)} x in ${fmtText(e.inFormat)} -> acc ${e.acc.bits}b -> out ${fmtText(e.outFormat)}, ${e.pe}x${e.simd} MACs${e.groups > 1 ? `, ${e.groups} groups` : ''}`;

/**
 * Weight of lane (p, s) in ROM word (PE group g, tap t): output g * pe + p, input channel
 * cw * simd + s of its group (t = cw * kk + kernel position), as the renderer packs the ROM.
 */
export function linearWeightAt(e: LinearEngine, word: number, p: number, s: number): number {
  const kk = e.win.kh * e.win.kw,
    cinK = (e.cin / e.groups) * kk;
  const g = Math.floor(word / e.k),
    t = word % e.k,
    cw = Math.floor(t / kk),
    r = t % kk;
  return e.weights[(g * e.pe + p) * cinK + (cw * e.simd + s) * kk + r];
}

export interface LinearWidths {
  /** Product: weight x input, the input sign-extended by one bit when unsigned. */
  pW: number;
  /** Adder tree of the SIMD products: capped at the accumulator (modular, exact because the sum fits). */
  treeW: number;
  /** Accumulator: the exact bound, at least a product. */
  accW: number;
  /** Weight ROM: one word per (group, tap) holding pe x simd weights. */
  wDepth: number;
  wWidth: number;
  /** Bias ROM: one word per group holding pe aligned biases. */
  bDepth: number;
  bWidth: number;
}

/** Datapath widths and ROM shapes as the template builds them; the renderer and the estimator both use them. */
export function linearWidths(e: LinearEngine): LinearWidths {
  const wW = e.weightFormat.wl;
  const pW = wW + e.inFormat.wl + (e.inFormat.signed ? 0 : 1);
  // The tree and accumulator may wrap modulo 2^width: two's complement addition is exact modulo
  // the width, and the final accumulator value fits (quant/accumulator.ts), so it comes out exact.
  const accW = Math.max(e.acc.bits, pW);
  const treeW = e.simd === 1 ? pW : Math.min(accW, pW + clog2(e.simd));
  const groups = e.cout / e.pe;
  return { pW, treeW, accW, wDepth: groups * e.k, wWidth: e.pe * e.simd * wW, bDepth: groups, bWidth: e.pe * accW };
}
