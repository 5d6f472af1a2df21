import { FxpqError } from '../errors.js';
import { type FxFormat, checkFormat } from '../fixed/format.js';
import { linearAccRange } from '../quant/accumulator.js';
import type { IntTensor } from '../quant/qgraph.js';
import type { QuantBuildContext } from './op-module.js';

/** Helpers the quantized parts of several ops share. */

/** Fraction bits of the reciprocal in average pooling (error bound in intref/ops.ts). */
export const RECIP_BITS = 16;

function need<T>(v: T | undefined, name: string, what: string): T {
  if (v === undefined) throw new FxpqError(`layer '${name}': no ${what} format assigned`);
  return v;
}

/**
 * Integer weights and biases of a conv or dense layer in their formats. The bias fraction length
 * is capped at the accumulator's (fl_w + fl_in) so aligning the bias is an exact left shift.
 */
export function buildWeighted(
  src: { weight: { shape: number[]; data: Float64Array }; bias: Float64Array },
  c: QuantBuildContext,
): { weight: IntTensor; bias: Int32Array; weightFormat: FxFormat; biasFormat: FxFormat } {
  const inF = c.inFormats[0];
  const wF = need(c.formats.weights, c.name, 'weights');
  const bIn = need(c.formats.bias, c.name, 'bias');
  checkFormat(wF, `layer '${c.name}' weights`);
  const bF = { ...bIn, fl: Math.min(bIn.fl, wF.fl + inF.fl) };
  checkFormat(bF, `layer '${c.name}' bias`);
  const r = {
    weight: { shape: src.weight.shape, data: c.quantize(src.weight.data, wF, !c.formats.nearest) },
    bias: c.quantize(src.bias, bF, false),
    weightFormat: wF,
    biasFormat: bF,
  };
  const acc = linearAccRange(r, inF);
  if (acc.bits > 53)
    throw new FxpqError(`layer '${c.name}': the accumulator needs ${acc.bits} bits; fxpq supports at most 53 (lower the word lengths)`);
  return r;
}
