import { type FxFormat, fmtText, maxInt, minInt, signedBitsForRange } from '../../../fixed/format.js';
import { layerAccRange } from '../../../quant/acc-range.js';
import { type AccRange, reciprocal } from '../../../quant/accumulator.js';
import type { QLayer } from '../../../quant/qgraph.js';
import type { BuildContext } from '../../engine-module.js';
import { type EngineBase, type Window, wholeWindow } from '../../plan-types.js';
import { clog2 } from '../../verilog.js';

/** Max, average and global average pooling: every lane of a word in parallel, one tap per cycle. */
export interface PoolEngine extends EngineBase {
  kind: 'pool';
  mode: 'max' | 'avg';
  lanes: number;
  c: number;
  win: Window;
  inFormat: FxFormat;
  outFormat: FxFormat;
  /** avg: window-sum range, reciprocal bits, reciprocal per valid count (index = count). */
  acc: AccRange | null;
  recipBits: number;
  /** Reciprocal for each possible divisor; a single entry when every window has the same count. */
  recips: { count: number; r: number }[];
  countIncludePad: boolean;
}

export const acceptsPool = (l: QLayer): boolean => l.op.kind === 'maxpool' || l.op.kind === 'avgpool' || l.op.kind === 'gap';

export function buildPool({ q, layer: l, base, inputs: [inB], output: outB }: BuildContext): PoolEngine {
  const op = l.op;
  if (op.kind !== 'maxpool' && op.kind !== 'avgpool' && op.kind !== 'gap')
    throw new Error(`pool engine: layer '${l.name}' is a ${op.kind}`);
  const win: Window =
    op.kind === 'gap'
      ? wholeWindow(inB.h, inB.w)
      : {
          h: inB.h,
          w: inB.w,
          kh: op.kernel[0],
          kw: op.kernel[1],
          sh: op.strides[0],
          sw: op.strides[1],
          dh: op.dilations[0],
          dw: op.dilations[1],
          pt: op.pads[0],
          pl: op.pads[1],
          ho: outB.h,
          wo: outB.w,
        };
  const avg = op.kind !== 'maxpool';
  const full = win.kh * win.kw;
  const variable = op.kind === 'avgpool' && !op.countIncludePad && op.pads.some((p) => p > 0);
  const recipBits = op.kind === 'maxpool' ? 0 : op.recipBits;
  const recips = !avg
    ? []
    : (variable ? Array.from({ length: full }, (_, j) => j + 1) : [full]).map((count) => ({ count, r: reciprocal(count, recipBits) }));
  return {
    ...base,
    kind: 'pool',
    mode: avg ? 'avg' : 'max',
    lanes: inB.lanes,
    c: inB.c,
    win,
    inFormat: inB.format,
    outFormat: outB.format,
    acc: avg ? layerAccRange(q, l) : null,
    recipBits,
    recips,
    countIncludePad: op.kind === 'avgpool' ? op.countIncludePad : true,
    cycles: 0,
    macs: 0,
    multipliers: avg ? inB.lanes : 0,
  };
}

export const poolTaps = (e: PoolEngine): number => (e.c / e.lanes) * e.win.ho * e.win.wo * e.win.kh * e.win.kw;

export const poolSummary = (e: PoolEngine): string => `${e.mode}pool ${fmtText(e.inFormat)} -> ${fmtText(e.outFormat)}, ${e.lanes} lanes`;

export interface PoolWidths {
  /** Average: window sum, reciprocal and product widths (0 for max pooling). */
  sumW: number;
  rW: number;
  accW: number;
  /** Border windows with their own reciprocal (a count register and a case table). */
  countVaries: boolean;
}

export function poolWidths(e: PoolEngine): PoolWidths {
  if (e.mode === 'max') return { sumW: 0, rW: 0, accW: 0, countVaries: false };
  const full = e.win.kh * e.win.kw;
  const sumW = signedBitsForRange(minInt(e.inFormat) * full, maxInt(e.inFormat) * full);
  const rW = clog2(Math.max(...e.recips.map((r) => r.r)) + 1);
  return { sumW, rW, accW: sumW + rW + 1, countVaries: e.recips.length > 1 };
}
