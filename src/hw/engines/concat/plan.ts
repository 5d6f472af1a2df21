import { type FxFormat, fmtText } from '../../../fixed/format.js';
import { layerAccRange } from '../../../quant/acc-range.js';
import type { AccRange } from '../../../quant/accumulator.js';
import type { QLayer } from '../../../quant/qgraph.js';
import type { BuildContext } from '../../engine-module.js';
import type { EngineBase } from '../../plan-types.js';

/**
 * Concatenation along channels. Inputs and output share a lane count that divides every input's
 * channels, so input k's words are the output's words from the sum of the earlier inputs' words on:
 * the engine copies input 0's words, then input 1's, ..., one word per cycle, each lane shifted to
 * the finest fraction length among the inputs and requantized to the output format.
 */
export interface ConcatEngine extends EngineBase {
  kind: 'concat';
  lanes: number;
  /** Words of each input, in input order. */
  words: number[];
  inFormats: FxFormat[];
  outFormat: FxFormat;
  /** The inputs aligned to the finest fraction length: the requantizer's input. */
  acc: AccRange;
}

export const acceptsConcat = (l: QLayer): boolean => l.op.kind === 'concat';

export function buildConcat({ q, layer: l, base, inputs, output: outB }: BuildContext): ConcatEngine {
  if (l.op.kind !== 'concat') throw new Error(`concat engine: layer '${l.name}' is a ${l.op.kind}`);
  return {
    ...base,
    kind: 'concat',
    lanes: outB.lanes,
    words: inputs.map((b) => b.words),
    inFormats: inputs.map((b) => b.format),
    outFormat: outB.format,
    acc: layerAccRange(q, l)!,
    cycles: 0,
    macs: 0,
    multipliers: 0,
  };
}

export const concatTaps = (e: ConcatEngine): number => e.words.reduce((a, b) => a + b, 0);

export const concatSummary = (e: ConcatEngine): string =>
  `concat ${e.inFormats.map(fmtText).join(' ++ ')} -> ${fmtText(e.outFormat)}, ${e.lanes} lanes`;

export interface ConcatWidths {
  /** Left shift of each input to the common fraction length, and the requantizer's input width. */
  shifts: number[];
  accW: number;
}

export function concatWidths(e: ConcatEngine): ConcatWidths {
  const F = e.acc.fl;
  const shifts = e.inFormats.map((f) => F - f.fl);
  const accW = Math.max(e.acc.bits, ...e.inFormats.map((f, k) => f.wl + (f.signed ? 0 : 1) + shifts[k]));
  return { shifts, accW };
}
