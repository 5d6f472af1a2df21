import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { FxpqError } from '../errors.js';
import { type FxFormat, fmtText, maxInt, minInt } from '../fixed/format.js';
import { convOutHW, poolOutHW } from '../ir/geometry.js';
import { size } from '../ir/types.js';
import { layerAccRange } from '../quant/accumulator.js';
import type { Activation, QGraph, QLayer, QOp } from '../quant/qgraph.js';
import { PASS_THROUGH } from '../quant/qgraph.js';
import { dict } from '../util/dict.js';
import { Budget, checkAlloc, checkConvWork, checkShape, fmtShape, shortName } from '../util/limits.js';

/** Bytes charged per element of one sample's activation (float64 in the integer reference). */
const ACT_BYTES = 8;

/**
 * The quantized model file (*.fxp.json): the graph, every format, the integer weights and biases
 * (base64 of little-endian int32), and provenance. Version 1. Loading validates the schema (zod)
 * and then the semantics (formats agree between producer and consumer, integers fit their word
 * lengths, shapes, accumulator widths), each failure as one line naming the layer and field.
 */
export const FXP_FORMAT = 'fxpq.quantized-model';
export const FXP_VERSION = 1;

const Format = z.object({ wl: z.number().int().min(1).max(32), fl: z.number().int().min(-1024).max(1024), signed: z.boolean() }).strict();
const Ints = z.object({ shape: z.array(z.number().int().positive()).optional(), data: z.string() }).strict();
const Act = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  z.object({ kind: z.literal('relu') }).strict(),
  z.object({ kind: z.literal('clip'), min: z.number(), max: z.number(), lo: z.number().int(), hi: z.number().int() }).strict(),
]);
const Pair = z.tuple([z.number().int().positive(), z.number().int().positive()]);
const Pads = z.tuple([z.number().int().min(0), z.number().int().min(0), z.number().int().min(0), z.number().int().min(0)]);
const Attrs = z.object({
  strides: Pair.optional(), pads: Pads.optional(), dilations: Pair.optional(), group: z.number().int().positive().optional(),
  kernel: Pair.optional(), countIncludePad: z.boolean().optional(), recipBits: z.number().int().min(0).max(30).optional(), act: Act.optional(),
}).strict();
const Layer = z.object({
  name: z.string().min(1),
  kind: z.enum(['conv', 'dense', 'maxpool', 'avgpool', 'gap', 'add', 'flatten', 'pad']),
  inputs: z.array(z.string().min(1)).min(1).max(2),
  output: z.string().min(1),
  outputShape: z.array(z.number().int().positive()),
  formats: z.object({ inputs: z.array(Format).min(1).max(2), output: Format, weights: Format.optional(), bias: Format.optional() }).strict(),
  attrs: Attrs,
  weights: Ints.optional(),
  bias: Ints.optional(),
  accumulator: z.object({ bits: z.number().int(), fl: z.number().int() }).strict().optional(),
}).strict();
export const FxpFileSchema = z.object({
  format: z.literal(FXP_FORMAT),
  version: z.literal(FXP_VERSION),
  tool: z.object({ name: z.string(), version: z.string() }).strict(),
  source: z.object({ file: z.string(), sha256: z.string(), opset: z.number().int(), producer: z.string() }).strict(),
  options: z.record(z.string(), z.unknown()),
  input: z.object({ name: z.string().min(1), shape: z.array(z.number().int().positive()).min(1), format: Format }).strict(),
  output: z.string().min(1),
  layers: z.array(Layer).min(1),
}).strict();
export type FxpFile = z.infer<typeof FxpFileSchema>;
type FileLayer = z.infer<typeof Layer>;

export interface FxpMeta {
  tool: FxpFile['tool'];
  source: FxpFile['source'];
  options: Record<string, unknown>;
}

export interface LoadedFxp { q: QGraph; meta: FxpMeta }

function b64(a: Int32Array): string {
  const buf = Buffer.alloc(a.length * 4);
  for (let i = 0; i < a.length; i++) buf.writeInt32LE(a[i], i * 4);
  return buf.toString('base64');
}
/** Bytes that base64 text `s` decodes to, from its length alone (before decoding it). */
function b64Bytes(s: string): number {
  let n = 0, pad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61) pad++; // '='
    else if (c !== 32 && c !== 10 && c !== 13 && c !== 9) n++;
  }
  return Math.floor(((n + pad) * 3) / 4) - pad;
}

function unb64(s: string, where: string): Int32Array {
  const buf = Buffer.from(s, 'base64');
  if (buf.length % 4 !== 0 || buf.toString('base64') !== s.replace(/\s/g, '')) throw new FxpqError(`${where}: data is not base64 of little-endian int32 values`);
  const out = new Int32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt32LE(i * 4);
  return out;
}

export function toFxpFile(q: QGraph, meta: FxpMeta): FxpFile {
  const layers: FileLayer[] = q.layers.map((l) => {
    const op = l.op;
    const fl: FileLayer = {
      name: l.name, kind: op.kind, inputs: l.inputs, output: l.output,
      outputShape: q.values[l.output].shape,
      formats: { inputs: l.inputs.map((i) => q.values[i].format), output: q.values[l.output].format },
      attrs: {},
    };
    if (op.kind === 'conv' || op.kind === 'dense') {
      fl.formats.weights = op.weightFormat;
      fl.formats.bias = op.biasFormat;
      fl.weights = { shape: op.weight.shape, data: b64(op.weight.data) };
      fl.bias = { data: b64(op.bias) };
    }
    if (op.kind === 'conv') Object.assign(fl.attrs, { strides: op.strides, pads: op.pads, dilations: op.dilations, group: op.group });
    if (op.kind === 'maxpool' || op.kind === 'avgpool') Object.assign(fl.attrs, { kernel: op.kernel, strides: op.strides, pads: op.pads, dilations: op.dilations });
    if (op.kind === 'avgpool') Object.assign(fl.attrs, { countIncludePad: op.countIncludePad, recipBits: op.recipBits });
    if (op.kind === 'gap') fl.attrs.recipBits = op.recipBits;
    if (op.kind === 'pad') fl.attrs.pads = op.pads;
    if (op.kind === 'conv' || op.kind === 'dense' || op.kind === 'add') fl.attrs.act = op.act;
    const acc = layerAccRange(q, l);
    if (acc) fl.accumulator = { bits: acc.bits, fl: acc.fl };
    return fl;
  });
  return {
    format: FXP_FORMAT, version: FXP_VERSION, tool: meta.tool, source: meta.source, options: meta.options,
    input: { name: q.input, shape: q.values[q.input].shape, format: q.values[q.input].format },
    output: q.output,
    layers,
  };
}

const sameFormat = (a: FxFormat, b: FxFormat) => a.wl === b.wl && a.fl === b.fl && a.signed === b.signed;

export function readFxpFile(path: string): LoadedFxp {
  let text: string;
  try {
    // Read whole: a file larger than the memory limit is refused before it is read.
    const st = statSync(path);
    if (st.isFile()) checkAlloc(st.size, 1, `${path}: the file`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof FxpqError) throw e;
    throw new FxpqError(`${path}: cannot read quantized model (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FxpqError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseFxp(json, path);
}

/** Validates a parsed .fxp.json and builds the quantized graph. */
export function parseFxp(json: unknown, file = 'model.fxp.json'): LoadedFxp {
  const r = FxpFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.path;
    let where = path.join('.');
    if (path[0] === 'layers' && typeof path[1] === 'number') {
      const name = (json as { layers?: { name?: unknown }[] }).layers?.[path[1]]?.name;
      where = `layer '${typeof name === 'string' ? name : '?'}' (layers[${path[1]}]) field ${path.slice(2).join('.') || '(layer)'}`;
    } else {
      where = `field ${where || '(top level)'}`;
    }
    throw new FxpqError(`${file}: ${where}: ${issue.message}`);
  }
  const f = r.data;
  // Shapes are declared by the file: one sample's tensors must fit the memory limit.
  // One running total, like the ONNX import's: the weights and every layer's per-sample output.
  const budget = new Budget(`${shortName(file)}: the weights and one sample's activations`);
  const inWhat = `${file}: field input.shape: per-sample input ${fmtShape(f.input.shape)}`;
  budget.take(checkShape(f.input.shape, ACT_BYTES, inWhat), ACT_BYTES, inWhat);
  const values = dict<QGraph['values'][string]>([[f.input.name, { shape: f.input.shape, format: f.input.format }]]);
  const layers: QLayer[] = [];
  const names = new Set<string>();
  for (const L of f.layers) {
    const where = `${file}: layer '${L.name}'`;
    if (names.has(L.name)) throw new FxpqError(`${where}: duplicate layer name`);
    names.add(L.name);
    if (values[L.output]) throw new FxpqError(`${where} field output: tensor '${L.output}' is written twice`);
    const ins = L.inputs.map((i, k) => {
      const v = values[i];
      if (!v) throw new FxpqError(`${where} field inputs[${k}]: tensor '${i}' is not produced by an earlier layer`);
      if (!L.formats.inputs[k]) throw new FxpqError(`${where} field formats.inputs[${k}]: missing`);
      if (!sameFormat(v.format, L.formats.inputs[k])) {
        throw new FxpqError(`${where} field formats.inputs[${k}]: ${fmtText(L.formats.inputs[k])} differs from the format ${fmtText(v.format)} of its producer's output '${i}'`);
      }
      return v;
    });
    if ((L.kind === 'add') !== (L.inputs.length === 2)) throw new FxpqError(`${where} field inputs: ${L.kind} takes ${L.kind === 'add' ? 2 : 1} input(s)`);
    if (PASS_THROUGH.has(L.kind) && !sameFormat(L.formats.output, ins[0].format)) {
      throw new FxpqError(`${where} field formats.output: a ${L.kind} layer keeps its input format ${fmtText(ins[0].format)}, got ${fmtText(L.formats.output)}`);
    }
    for (const [k, fm] of [['output', L.formats.output], ['weights', L.formats.weights], ['bias', L.formats.bias]] as const) {
      if (fm && fm.signed && fm.wl < 2) throw new FxpqError(`${where} field formats.${k}: a signed format needs at least 2 bits`);
    }
    const op = buildOp(L, ins[0].shape, where, budget);
    const shape = outShape(op, ins[0].shape, where);
    if (shape.join(',') !== L.outputShape.join(',')) throw new FxpqError(`${where} field outputShape: ${fmtShape(L.outputShape)} but the layer computes ${fmtShape(shape)}`);
    const outWhat = `${where} field outputShape: per-sample output ${fmtShape(shape)}`;
    budget.take(checkShape(shape, ACT_BYTES, outWhat), ACT_BYTES, outWhat);
    if (op.kind === 'conv') {
      const [cout, cinG, kh, kw] = op.weight.shape;
      checkConvWork({ cout, cinG, kh, kw, inElements: size(ins[0].shape), outPixels: shape[1] * shape[2] }, where);
    } else if (op.kind === 'maxpool' || op.kind === 'avgpool') {
      // Work per sample (and the simulator's window table) grows with outputs x window taps.
      const [kh, kw] = op.kernel;
      checkAlloc(shape[1] * shape[2] * kh * kw, 4, `${where}: its ${shape[1]}x${shape[2]} outputs of ${kh}x${kw} taps`);
    }
    if (L.kind === 'add' && ins[1].shape.join(',') !== ins[0].shape.join(',')) throw new FxpqError(`${where} field inputs: operand shapes differ`);
    values[L.output] = { shape, format: L.formats.output };
    const layer: QLayer = { name: L.name, op, inputs: L.inputs, output: L.output };
    layers.push(layer);
  }
  if (!values[f.output]) throw new FxpqError(`${file}: field output: tensor '${f.output}' is not produced by any layer`);
  const q: QGraph = { input: f.input.name, output: f.output, layers, values };
  for (const l of layers) {
    let acc;
    try {
      acc = layerAccRange(q, l);
    } catch {
      throw new FxpqError(`${file}: layer '${l.name}': the accumulator range exceeds 2^53; lower the word lengths`);
    }
    if (acc && acc.bits > 53) throw new FxpqError(`${file}: layer '${l.name}': the accumulator needs ${acc.bits} bits, more than 53`);
  }
  return { q, meta: { tool: f.tool, source: f.source, options: f.options } };
}

function need<T>(v: T | undefined, where: string, field: string): T {
  if (v === undefined) throw new FxpqError(`${where} field ${field}: missing`);
  return v;
}

function checkFits(data: ArrayLike<number>, fm: FxFormat, where: string, field: string): void {
  const lo = minInt(fm), hi = maxInt(fm);
  for (let i = 0; i < data.length; i++) {
    if (data[i] < lo || data[i] > hi) throw new FxpqError(`${where} field ${field}: value ${data[i]} at index ${i} does not fit ${fmtText(fm)} (range ${lo}..${hi})`);
  }
}

function buildOp(L: FileLayer, inShape: number[], where: string, budget: Budget): QOp {
  const a = L.attrs;
  const act = (a.act ?? { kind: 'none' }) as Activation;
  // As numbers: an Int32Array would wrap a value beyond 2^31 into range.
  if (act.kind === 'clip') checkFits([act.lo, act.hi], L.formats.output, where, 'attrs.act');
  switch (L.kind) {
    case 'conv': case 'dense': {
      const wF = need(L.formats.weights, where, 'formats.weights');
      const bF = need(L.formats.bias, where, 'formats.bias');
      const W = need(L.weights, where, 'weights');
      const shape = need(W.shape, where, 'weights.shape');
      // Sizes before decoding: the declared shape must be affordable and match the data's length.
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
      if (bF.fl > accFl) throw new FxpqError(`${where} field formats.bias: fraction length ${bF.fl} exceeds the accumulator's ${accFl} (weights + input)`);
      if (L.kind === 'dense') {
        if (shape.length !== 2 || inShape.length !== 1 || shape[1] !== inShape[0]) throw new FxpqError(`${where} field weights.shape: [${shape}] does not fit input [${inShape}]`);
        return { kind: 'dense', weight: { shape, data }, bias, weightFormat: wF, biasFormat: bF, act };
      }
      const group = a.group ?? 1;
      if (shape.length !== 4 || inShape.length !== 3 || shape[1] * group !== inShape[0] || shape[0] % group !== 0) {
        throw new FxpqError(`${where} field weights.shape: [${shape}] (group ${group}) does not fit input [${inShape}]`);
      }
      return {
        kind: 'conv', weight: { shape, data }, bias, weightFormat: wF, biasFormat: bF,
        strides: a.strides ?? [1, 1], pads: a.pads ?? [0, 0, 0, 0], dilations: a.dilations ?? [1, 1], group, act,
      };
    }
    case 'maxpool': case 'avgpool': {
      const geo = { kernel: need(a.kernel, where, 'attrs.kernel'), strides: a.strides ?? [1, 1] as [number, number], pads: a.pads ?? [0, 0, 0, 0] as [number, number, number, number], dilations: a.dilations ?? [1, 1] as [number, number], ceilMode: false };
      return L.kind === 'maxpool' ? { kind: 'maxpool', ...geo } : { kind: 'avgpool', ...geo, countIncludePad: a.countIncludePad ?? false, recipBits: need(a.recipBits, where, 'attrs.recipBits') };
    }
    case 'gap': return { kind: 'gap', recipBits: need(a.recipBits, where, 'attrs.recipBits') };
    case 'add': return { kind: 'add', act };
    case 'flatten': return { kind: 'flatten' };
    case 'pad': return { kind: 'pad', pads: need(a.pads, where, 'attrs.pads') };
  }
}

function outShape(op: QOp, x: number[], where: string): number[] {
  const rank = (r: number) => { if (x.length !== r) throw new FxpqError(`${where} field inputs: expected a rank-${r} input, got [${x}]`); };
  switch (op.kind) {
    case 'conv': { rank(3); const [ho, wo] = convOutHW(x[1], x[2], [op.weight.shape[2], op.weight.shape[3]], op.strides, op.pads, op.dilations); return [op.weight.shape[0], ho, wo]; }
    case 'dense': return [op.weight.shape[0]];
    case 'maxpool': case 'avgpool': { rank(3); const [ho, wo] = poolOutHW(x[1], x[2], op); return [x[0], ho, wo]; }
    case 'gap': rank(3); return [x[0], 1, 1];
    case 'add': return [...x];
    case 'flatten': return [size(x)];
    case 'pad': rank(3); return [x[0], x[1] + op.pads[0] + op.pads[2], x[2] + op.pads[1] + op.pads[3]];
  }
}
