import { dict } from '../util/dict.js';
import { FxpqError } from '../errors.js';
import { type FxFormat, checkFormat, quantize, quantizeArray } from '../fixed/format.js';
import type { FloatAct, FusedGraph, FusedLayer } from './fuse.js';
import { linearAccRange } from './accumulator.js';
import { type Compensation, compensatedQuantize } from './compensate.js';
import type { Activation, QGraph, QLayer, QOp } from './qgraph.js';
import { PASS_THROUGH } from './qgraph.js';

/** Formats chosen by a quantizer: the input image's, and per layer its weights, bias and output. */
export interface LayerFormats {
  weights?: FxFormat; bias?: FxFormat; output?: FxFormat;
  /** Round this layer's weights to nearest even where an error compensation is attached (the search may choose it). */
  nearest?: boolean;
}
export interface Assignment { input: FxFormat; layers: Record<string, LayerFormats> }

/** Fraction bits of the reciprocal in average pooling (error bound in intref/ops.ts). */
export const RECIP_BITS = 16;

function qact(a: FloatAct, out: FxFormat): Activation {
  if (a.kind === 'clip') return { kind: 'clip', min: a.min, max: a.max, lo: quantize(a.min, out), hi: quantize(a.max, out) };
  return { kind: a.kind };
}

function need<T>(v: T | undefined, l: FusedLayer, what: string): T {
  if (v === undefined) throw new FxpqError(`layer '${l.name}': no ${what} format assigned`);
  return v;
}

/** Each compensation (statistics of one image set) has its own cached integers. */
const compIds = new WeakMap<Compensation, number>();
let nextCompId = 0;
function compId(c: Compensation): number {
  let id = compIds.get(c);
  if (id === undefined) { id = nextCompId++; compIds.set(c, id); }
  return id;
}

/**
 * Quantized copies of parameter tensors per format, least recently used first: the search rebuilds
 * graphs from the same few formats over and over, and tries hundreds of others once. The cache is
 * bounded in bytes so a ResNet-18-size search stays within its memory: each search worker scores
 * with two sets of compensated weights, 2 x 45 MB of int32 for one configuration of ResNet-18; an evicted copy is recomputed, with the same integers, when needed again.
 */
const QUANT_CACHE_BYTES = 160 * 2 ** 20;
const tensorIds = new WeakMap<Float64Array, number>();
let nextTensorId = 0;
const quantCache = new Map<string, Int32Array>();
let quantBytes = 0;
function quantizeAll(data: Float64Array, f: FxFormat, comp?: Compensation): Int32Array {
  let id = tensorIds.get(data);
  if (id === undefined) { id = nextTensorId++; tensorIds.set(data, id); }
  const key = `${id}:${f.wl},${f.fl},${f.signed},${comp ? compId(comp) : 'n'}`;
  let q = quantCache.get(key);
  if (q) {
    quantCache.delete(key); // re-inserted below as the most recently used
  } else {
    q = comp ? compensatedQuantize(data, f, comp) : quantizeArray(data, f, new Int32Array(data.length)) as Int32Array;
    quantBytes += q.byteLength;
    for (const [k, v] of quantCache) {
      if (quantBytes <= QUANT_CACHE_BYTES) break;
      quantCache.delete(k);
      quantBytes -= v.byteLength;
    }
  }
  quantCache.set(key, q);
  return q;
}

/**
 * Builds the integer graph: quantizes weights and biases to their formats (round half up,
 * saturate), attaches formats to every tensor and fuses activations into requantizers.
 * The bias fraction length is capped at the accumulator's (fl_w + fl_in) so aligning the bias is
 * an exact left shift.
 */
export function buildQGraph(fg: FusedGraph, a: Assignment): QGraph {
  const shapes = fg.graph.shapes;
  checkFormat(a.input, 'input');
  const values = dict<QGraph['values'][string]>([[fg.input, { shape: shapes[fg.input], format: a.input }]]);
  const layers: QLayer[] = [];
  for (const l of fg.layers) {
    const f = a.layers[l.name] ?? {};
    const inF = values[l.inputs[0]]?.format;
    if (!inF) throw new FxpqError(`layer '${l.name}': input '${l.inputs[0]}' has no format`);
    let out: FxFormat = PASS_THROUGH.has(l.op.kind as never) ? inF : need(f.output, l, 'output');
    checkFormat(out, `layer '${l.name}' output`);
    let op: QOp;
    const src = l.op;
    switch (src.kind) {
      case 'conv': case 'dense': {
        const wF = need(f.weights, l, 'weights');
        const bIn = need(f.bias, l, 'bias');
        checkFormat(wF, `layer '${l.name}' weights`);
        const bF = { ...bIn, fl: Math.min(bIn.fl, wF.fl + inF.fl) };
        checkFormat(bF, `layer '${l.name}' bias`);
        const weight = { shape: src.weight.shape, data: quantizeAll(src.weight.data, wF, f.nearest ? undefined : l.comp) };
        const bias = quantizeAll(src.bias, bF);
        const act = qact(l.act, out);
        op = src.kind === 'conv'
          ? { kind: 'conv', weight, bias, weightFormat: wF, biasFormat: bF, strides: src.strides, pads: src.pads, dilations: src.dilations, group: src.group, act }
          : { kind: 'dense', weight, bias, weightFormat: wF, biasFormat: bF, act };
        const acc = linearAccRange(op, inF);
        if (acc.bits > 53) throw new FxpqError(`layer '${l.name}': the accumulator needs ${acc.bits} bits; fxpq supports at most 53 (lower the word lengths)`);
        break;
      }
      case 'add': op = { kind: 'add', act: qact(l.act, out) }; break;
      case 'maxpool': op = { ...src, kind: 'maxpool' }; break;
      case 'avgpool': op = { ...src, kind: 'avgpool', recipBits: RECIP_BITS }; break;
      case 'gap': op = { kind: 'gap', recipBits: RECIP_BITS }; break;
      case 'flatten': op = { kind: 'flatten' }; break;
      case 'pad': op = { kind: 'pad', pads: src.pads }; out = inF; break;
    }
    values[l.output] = { shape: shapes[l.output], format: out };
    layers.push({ name: l.name, op, inputs: l.inputs, output: l.output });
  }
  return { input: fg.input, output: fg.output, layers, values };
}
