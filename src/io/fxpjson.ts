import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { FxpqError } from '../errors.js';
import { type FxFormat, fmtText } from '../fixed/format.js';
import { QUANT_KINDS, quantOf, quantPart } from '../ops/index.js';
import { layerAccRange } from '../quant/acc-range.js';
import type { Activation, QGraph, QKind, QLayer } from '../quant/qgraph.js';
import { dict } from '../util/dict.js';
import { Budget, checkAlloc, checkShape, fmtShape, shortName } from '../util/limits.js';
import { type AttrKind, checkFits, type FileLayer } from './fxp-kit.js';

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
/**
 * A layer's attributes: the union of what each op's file part uses (OpModule.quant.file.attrs),
 * strict, so a misspelt attribute is an error rather than a default.
 */
const Pair = z.tuple([z.number().int().positive(), z.number().int().positive()]);
const Pads = z.tuple([z.number().int().min(0), z.number().int().min(0), z.number().int().min(0), z.number().int().min(0)]);
const ATTR: Record<AttrKind, z.ZodTypeAny> = {
  pair: Pair,
  pads: Pads,
  positive: z.number().int().positive(),
  bool: z.boolean(),
  recipBits: z.number().int().min(0).max(30),
};
const attrShape: Record<string, z.ZodTypeAny> = { act: Act.optional() };
for (const k of QUANT_KINDS) for (const [name, kind] of Object.entries(quantPart(k).file.attrs)) attrShape[name] = ATTR[kind].optional();
const Attrs = z.object(attrShape).strict();
/** Inputs a layer may read: the largest arity of any op. */
const MAX_INPUTS = Math.max(...QUANT_KINDS.map((k) => quantPart(k).arity[1]));
const Layer = z
  .object({
    name: z.string().min(1),
    kind: z.enum(QUANT_KINDS as [QKind, ...QKind[]]),
    inputs: z.array(z.string().min(1)).min(1).max(MAX_INPUTS),
    output: z.string().min(1),
    outputShape: z.array(z.number().int().positive()),
    formats: z
      .object({ inputs: z.array(Format).min(1).max(MAX_INPUTS), output: Format, weights: Format.optional(), bias: Format.optional() })
      .strict(),
    attrs: Attrs,
    weights: Ints.optional(),
    bias: Ints.optional(),
    accumulator: z.object({ bits: z.number().int(), fl: z.number().int() }).strict().optional(),
  })
  .strict();
export const FxpFileSchema = z
  .object({
    format: z.literal(FXP_FORMAT),
    version: z.literal(FXP_VERSION),
    tool: z.object({ name: z.string(), version: z.string() }).strict(),
    source: z.object({ file: z.string(), sha256: z.string(), opset: z.number().int(), producer: z.string() }).strict(),
    options: z.record(z.string(), z.unknown()),
    input: z.object({ name: z.string().min(1), shape: z.array(z.number().int().positive()).min(1), format: Format }).strict(),
    output: z.string().min(1),
    layers: z.array(Layer).min(1),
  })
  .strict();
export type FxpFile = z.infer<typeof FxpFileSchema>;

export interface FxpMeta {
  tool: FxpFile['tool'];
  source: FxpFile['source'];
  options: Record<string, unknown>;
}

export interface LoadedFxp {
  q: QGraph;
  meta: FxpMeta;
}

export function toFxpFile(q: QGraph, meta: FxpMeta): FxpFile {
  const layers: FileLayer[] = q.layers.map((l) => {
    const op = l.op;
    const fl: FileLayer = {
      name: l.name,
      kind: op.kind,
      inputs: l.inputs,
      output: l.output,
      outputShape: q.values[l.output].shape,
      formats: { inputs: l.inputs.map((i) => q.values[i].format), output: q.values[l.output].format },
      attrs: {},
    };
    quantOf(op).file.write(op as never, fl);
    const acc = layerAccRange(q, l);
    if (acc) fl.accumulator = { bits: acc.bits, fl: acc.fl };
    return fl;
  });
  return {
    format: FXP_FORMAT,
    version: FXP_VERSION,
    tool: meta.tool,
    source: meta.source,
    options: meta.options,
    input: { name: q.input, shape: q.values[q.input].shape, format: q.values[q.input].format },
    output: q.output,
    layers: layers as FxpFile['layers'],
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
        throw new FxpqError(
          `${where} field formats.inputs[${k}]: ${fmtText(L.formats.inputs[k])} differs from the format ${fmtText(v.format)} of its producer's output '${i}'`,
        );
      }
      return v;
    });
    const part = quantPart(L.kind);
    const [minIn, maxIn] = part.arity;
    if (L.inputs.length < minIn || L.inputs.length > maxIn)
      throw new FxpqError(`${where} field inputs: ${L.kind} takes ${minIn === maxIn ? minIn : `${minIn} to ${maxIn}`} input(s)`);
    if (part.passThrough && !sameFormat(L.formats.output, ins[0].format)) {
      throw new FxpqError(
        `${where} field formats.output: a ${L.kind} layer keeps its input format ${fmtText(ins[0].format)}, got ${fmtText(L.formats.output)}`,
      );
    }
    for (const [k, fm] of [
      ['output', L.formats.output],
      ['weights', L.formats.weights],
      ['bias', L.formats.bias],
    ] as const) {
      if (fm && fm.signed && fm.wl < 2) throw new FxpqError(`${where} field formats.${k}: a signed format needs at least 2 bits`);
    }
    const act = (L.attrs as { act?: Activation }).act;
    // As numbers: an Int32Array would wrap a value beyond 2^31 into range.
    if (act?.kind === 'clip') checkFits([act.lo, act.hi], L.formats.output, where, 'attrs.act');
    const inShapes = ins.map((v) => v.shape);
    const op = part.file.read(L as FileLayer, inShapes, where, budget);
    const shape = part.shape(op as never, inShapes, where);
    if (shape.join(',') !== L.outputShape.join(','))
      throw new FxpqError(`${where} field outputShape: ${fmtShape(L.outputShape)} but the layer computes ${fmtShape(shape)}`);
    const outWhat = `${where} field outputShape: per-sample output ${fmtShape(shape)}`;
    budget.take(checkShape(shape, ACT_BYTES, outWhat), ACT_BYTES, outWhat);
    part.checkWork?.(op as never, inShapes, shape, where);
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
