import { FxpqError } from '../../../errors.js';
import { type FxFormat, fmtText } from '../../../fixed/format.js';
import { actBounds } from '../../../intref/ops.js';
import { layerAccRange } from '../../../quant/acc-range.js';
import type { AccRange } from '../../../quant/accumulator.js';
import type { QLayer } from '../../../quant/qgraph.js';
import type { BuildContext, Chw, FoldGeometry } from '../../engine-module.js';
import type { EngineBase, Window } from '../../plan-types.js';

/**
 * Depthwise convolution (group = input channels = output channels): every output channel sees only
 * its own input channel, so the `lanes` channels of one buffer word are computed side by side, one
 * multiplier per lane, each with its own kernel. A dense engine on the grouped weights expanded
 * with zeros would spend all but one in every `channels` multiplications on those zeros.
 */
export interface DepthwiseEngine extends EngineBase {
  kind: 'depthwise';
  /** Channels, and how many of them one buffer word (in and out alike) holds. */
  c: number;
  lanes: number;
  win: Window;
  inFormat: FxFormat;
  weightFormat: FxFormat;
  biasFormat: FxFormat;
  outFormat: FxFormat;
  acc: AccRange;
  actLo: number;
  actHi: number;
  /** Integer weights [c][kh][kw] and biases shifted to the accumulator's fraction length. */
  weights: Int32Array;
  alignedBias: number[];
}

export function acceptsDepthwise(l: QLayer): boolean {
  const op = l.op;
  return op.kind === 'conv' && op.group > 1 && op.weight.shape[1] === 1 && op.weight.shape[0] === op.group;
}

export const depthwiseGeometry = (l: QLayer, [c]: Chw, [, ho, wo]: Chw): FoldGeometry => {
  const s = l.op.kind === 'conv' ? l.op.weight.shape : [1, 1, 1, 1];
  return { cin: c, cout: c, pix: ho * wo, kk: s[2] * s[3] };
};

/** One multiplier per lane; a word of `lanes` channels per tap. */
export const depthwiseCost = (g: FoldGeometry, _inLanes: number, lanes: number) => ({
  mults: lanes,
  cycles: (g.cout / lanes) * g.pix * g.kk,
});

export function buildDepthwise({ q, layer: l, base, inputs: [inB], output: outB }: BuildContext): DepthwiseEngine {
  const op = l.op;
  if (op.kind !== 'conv') throw new Error(`depthwise engine: layer '${l.name}' is a ${op.kind}`);
  if (inB.lanes !== outB.lanes || inB.c !== outB.c)
    throw new Error(
      `depthwise engine: layer '${l.name}' reads ${inB.c} channels in ${inB.lanes} lanes and writes ${outB.c} in ${outB.lanes}`,
    );
  const acc = layerAccRange(q, l)!;
  const [lo, hi] = actBounds(op.act);
  const [kh, kw] = [op.weight.shape[2], op.weight.shape[3]];
  const win: Window = {
    h: inB.h,
    w: inB.w,
    kh,
    kw,
    sh: op.strides[0],
    sw: op.strides[1],
    dh: op.dilations[0],
    dw: op.dilations[1],
    pt: op.pads[0],
    pl: op.pads[1],
    ho: outB.h,
    wo: outB.w,
  };
  if (op.weight.data.length !== outB.c * kh * kw)
    throw new FxpqError(`layer '${l.name}': weight count ${op.weight.data.length} does not match ${outB.c} x ${kh * kw}`);
  const sh = 2 ** (acc.fl - op.biasFormat.fl);
  return {
    ...base,
    kind: 'depthwise',
    c: outB.c,
    lanes: outB.lanes,
    win,
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
    macs: outB.c * outB.h * outB.w * kh * kw,
    multipliers: outB.lanes,
  };
}

export const depthwiseTaps = (e: DepthwiseEngine): number => (e.c / e.lanes) * e.win.ho * e.win.wo * e.win.kh * e.win.kw;

export const depthwiseSummary = (e: DepthwiseEngine): string =>
  `depthwise w ${fmtText(e.weightFormat)} x in ${fmtText(e.inFormat)} -> acc ${e.acc.bits}b -> out ${fmtText(e.outFormat)}, ${e.lanes} MACs`;

export interface DepthwiseWidths {
  /** Product: weight x input, the input sign-extended by one bit when unsigned. */
  pW: number;
  /** Accumulator: the exact bound, at least a product. */
  accW: number;
  /** Weight ROM: one word per (channel word, kernel position) holding `lanes` weights. */
  wDepth: number;
  wWidth: number;
  /** Bias ROM: one word per channel word holding `lanes` aligned biases. */
  bDepth: number;
  bWidth: number;
}

export function depthwiseWidths(e: DepthwiseEngine): DepthwiseWidths {
  const pW = e.weightFormat.wl + e.inFormat.wl + (e.inFormat.signed ? 0 : 1);
  const accW = Math.max(e.acc.bits, pW);
  const groups = e.c / e.lanes,
    kk = e.win.kh * e.win.kw;
  return { pW, accW, wDepth: groups * kk, wWidth: e.lanes * e.weightFormat.wl, bDepth: groups, bWidth: e.lanes * accW };
}

/** Weight of lane l in ROM word (channel word g, kernel position kp): channel g * lanes + l. */
export const depthwiseWeightAt = (e: DepthwiseEngine, word: number, lane: number): number => {
  const kk = e.win.kh * e.win.kw;
  return e.weights[(Math.floor(word / kk) * e.lanes + lane) * kk + (word % kk)];
};
