import { type FxFormat, fmtText } from '../../../fixed/format.js';
import { actBounds } from '../../../intref/ops.js';
import { layerAccRange } from '../../../quant/acc-range.js';
import type { AccRange } from '../../../quant/accumulator.js';
import type { QLayer } from '../../../quant/qgraph.js';
import type { BuildContext } from '../../engine-module.js';
import type { EngineBase } from '../../plan-types.js';

/** Residual add: both operands aligned to the accumulator's fraction length, every lane in parallel. */
export interface AddEngine extends EngineBase {
  kind: 'add';
  lanes: number;
  words: number;
  aFormat: FxFormat;
  bFormat: FxFormat;
  outFormat: FxFormat;
  acc: AccRange;
  actLo: number;
  actHi: number;
}

export const acceptsAdd = (l: QLayer): boolean => l.op.kind === 'add';

export function buildAdd({ q, layer: l, base, inputs: [aB, bB], output: outB }: BuildContext): AddEngine {
  if (l.op.kind !== 'add') throw new Error(`add engine: layer '${l.name}' is a ${l.op.kind}`);
  const [lo, hi] = actBounds(l.op.act);
  return {
    ...base,
    kind: 'add',
    lanes: outB.lanes,
    words: outB.words,
    aFormat: aB.format,
    bFormat: bB.format,
    outFormat: outB.format,
    acc: layerAccRange(q, l)!,
    actLo: lo,
    actHi: hi,
    cycles: 0,
    macs: 0,
    multipliers: 0,
  };
}

export const addTaps = (e: AddEngine): number => e.words;

export const addSummary = (e: AddEngine): string =>
  `add ${fmtText(e.aFormat)} + ${fmtText(e.bFormat)} -> ${fmtText(e.outFormat)}, ${e.lanes} lanes`;

export interface AddWidths {
  /** Left shifts aligning each operand to the accumulator's fraction length, and the sum's width. */
  ka: number;
  kb: number;
  accW: number;
}

export function addWidths(e: AddEngine): AddWidths {
  const F = e.acc.fl;
  const ka = F - e.aFormat.fl,
    kb = F - e.bFormat.fl;
  const aw = e.aFormat.wl + (e.aFormat.signed ? 0 : 1) + ka,
    bw = e.bFormat.wl + (e.bFormat.signed ? 0 : 1) + kb;
  return { ka, kb, accW: Math.max(e.acc.bits, aw, bw) };
}
