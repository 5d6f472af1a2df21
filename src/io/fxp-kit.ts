import { FxpqError } from '../errors.js';
import { type FxFormat, fmtText, maxInt, minInt } from '../fixed/format.js';
import { size } from '../ir/types.js';
import type { Activation, IntTensor } from '../quant/qgraph.js';
import { type Budget, checkShape, fmtShape } from '../util/limits.js';

/**
 * What the .fxp.json loader and writer (fxpjson.ts) share with each op's file part
 * (OpModule.quant.file): the layer as the file holds it, after the schema, and the helpers that
 * decode and check its integers.
 */
/**
 * How an attribute of a layer is written in the file, for the loader's schema (fxpjson.ts builds
 * it): a pair of positive integers, four non-negative pads, a positive integer, a flag, or the
 * reciprocal bits of average pooling (0..30).
 */
export type AttrKind = 'pair' | 'pads' | 'positive' | 'bool' | 'recipBits';

export interface FileLayer {
  name: string;
  kind: string;
  inputs: string[];
  output: string;
  outputShape: number[];
  formats: { inputs: FxFormat[]; output: FxFormat; weights?: FxFormat; bias?: FxFormat };
  attrs: Record<string, unknown>;
  weights?: { shape?: number[]; data: string };
  bias?: { shape?: number[]; data: string };
  accumulator?: { bits: number; fl: number };
}

export function b64(a: Int32Array): string {
  const buf = Buffer.alloc(a.length * 4);
  for (let i = 0; i < a.length; i++) buf.writeInt32LE(a[i], i * 4);
  return buf.toString('base64');
}
/** Bytes that base64 text `s` decodes to, from its length alone (before decoding it). */
export function b64Bytes(s: string): number {
  let n = 0,
    pad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61)
      pad++; // '='
    else if (c !== 32 && c !== 10 && c !== 13 && c !== 9) n++;
  }
  return Math.floor(((n + pad) * 3) / 4) - pad;
}

export function unb64(s: string, where: string): Int32Array {
  const buf = Buffer.from(s, 'base64');
  if (buf.length % 4 !== 0 || buf.toString('base64') !== s.replace(/\s/g, ''))
    throw new FxpqError(`${where}: data is not base64 of little-endian int32 values`);
  const out = new Int32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt32LE(i * 4);
  return out;
}

export function need<T>(v: T | undefined, where: string, field: string): T {
  if (v === undefined) throw new FxpqError(`${where} field ${field}: missing`);
  return v;
}

export function checkFits(data: ArrayLike<number>, fm: FxFormat, where: string, field: string): void {
  const lo = minInt(fm),
    hi = maxInt(fm);
  for (let i = 0; i < data.length; i++) {
    if (data[i] < lo || data[i] > hi)
      throw new FxpqError(`${where} field ${field}: value ${data[i]} at index ${i} does not fit ${fmtText(fm)} (range ${lo}..${hi})`);
  }
}

/** A fused activation as the file holds it (attrs.act), its clamp checked against the output format. */
export function fileAct(L: FileLayer, where: string): Activation {
  const act = (L.attrs.act ?? { kind: 'none' }) as Activation;
  // As numbers: an Int32Array would wrap a value beyond 2^31 into range.
  if (act.kind === 'clip') checkFits([act.lo, act.hi], L.formats.output, where, 'attrs.act');
  return act;
}

/**
 * The integer weights and biases of a conv or dense layer, sizes checked before decoding (the
 * declared shape must be affordable and match the data's length) and every value against its format.
 */
export function readWeighted(
  L: FileLayer,
  where: string,
  budget: Budget,
): { weight: IntTensor; bias: Int32Array; weightFormat: FxFormat; biasFormat: FxFormat } {
  const wF = need(L.formats.weights, where, 'formats.weights');
  const bF = need(L.formats.bias, where, 'formats.bias');
  const W = need(L.weights, where, 'weights');
  const shape = need(W.shape, where, 'weights.shape');
  const count = checkShape(shape, 4, `${where} field weights.shape ${fmtShape(shape)}`);
  // Decoded as int32, then held as float64 by the engines: charged at 16 bytes a value.
  budget.take(count + shape[0], 16, `${where} field weights.shape ${fmtShape(shape)}`);
  const nW = b64Bytes(W.data) / 4;
  if (Number.isInteger(nW) && nW !== count) throw new FxpqError(`${where} field weights.data: ${nW} values for shape ${fmtShape(shape)}`);
  const data = unb64(W.data, `${where} field weights.data`);
  if (data.length !== size(shape)) throw new FxpqError(`${where} field weights.data: ${data.length} values for shape ${fmtShape(shape)}`);
  checkFits(data, wF, where, 'weights.data');
  const biasText = need(L.bias, where, 'bias').data;
  const nB = b64Bytes(biasText) / 4;
  if (Number.isInteger(nB) && nB !== shape[0]) throw new FxpqError(`${where} field bias.data: ${nB} values for ${shape[0]} outputs`);
  const bias = unb64(biasText, `${where} field bias.data`);
  if (bias.length !== shape[0]) throw new FxpqError(`${where} field bias.data: ${bias.length} values for ${shape[0]} outputs`);
  checkFits(bias, bF, where, 'bias.data');
  const accFl = wF.fl + L.formats.inputs[0].fl;
  if (bF.fl > accFl)
    throw new FxpqError(`${where} field formats.bias: fraction length ${bF.fl} exceeds the accumulator's ${accFl} (weights + input)`);
  return { weight: { shape, data }, bias, weightFormat: wF, biasFormat: bF };
}

/** The weights and biases of a conv or dense layer as the file holds them. */
export function writeWeighted(
  op: { weight: IntTensor; bias: Int32Array; weightFormat: FxFormat; biasFormat: FxFormat },
  fl: FileLayer,
): void {
  fl.formats.weights = op.weightFormat;
  fl.formats.bias = op.biasFormat;
  fl.weights = { shape: op.weight.shape, data: b64(op.weight.data) };
  fl.bias = { data: b64(op.bias) };
}

/** An op that needs a per-sample input of rank r in the file. */
export function fileRank(x: number[], r: number, where: string): void {
  if (x.length !== r) throw new FxpqError(`${where} field inputs: expected a rank-${r} input, got [${x}]`);
}
