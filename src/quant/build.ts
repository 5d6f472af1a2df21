import { dict } from '../util/dict.js';
import { FxpqError } from '../errors.js';
import { type FxFormat, checkFormat, quantize, quantizeArray } from '../fixed/format.js';
import { quantPart } from '../ops/index.js';
import type { Assignment } from './assignment.js';
import type { FloatAct, FusedGraph, FusedLayer } from './fuse.js';
import { type Compensation, compensatedQuantize } from './compensate.js';
import type { Activation, QGraph, QKind, QLayer } from './qgraph.js';

export type { Assignment, LayerFormats } from './assignment.js';

export { RECIP_BITS } from '../ops/quant-kit.js';

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
  if (id === undefined) {
    id = nextCompId++;
    compIds.set(c, id);
  }
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
  if (id === undefined) {
    id = nextTensorId++;
    tensorIds.set(data, id);
  }
  const key = `${id}:${f.wl},${f.fl},${f.signed},${comp ? compId(comp) : 'n'}`;
  let q = quantCache.get(key);
  if (q) {
    quantCache.delete(key); // re-inserted below as the most recently used
  } else {
    q = comp ? compensatedQuantize(data, f, comp) : (quantizeArray(data, f, new Int32Array(data.length)) as Int32Array);
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
 * Builds the integer graph: each layer's op module (OpModule.quant.build) quantizes its weights
 * and biases to their formats (round half up, saturate); formats are attached to every tensor and
 * activations fused into requantizers.
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
    const part = quantPart(l.op.kind as QKind);
    const out: FxFormat = part.passThrough ? inF : need(f.output, l, 'output');
    checkFormat(out, `layer '${l.name}' output`);
    const op = part.build(l.op as never, {
      name: l.name,
      inFormats: l.inputs.map((i) => values[i].format),
      out,
      formats: f,
      act: qact(l.act, out),
      quantize: (data, fm, compensated) => quantizeAll(data, fm, compensated ? l.comp : undefined),
    });
    values[l.output] = { shape: shapes[l.output], format: out };
    layers.push({ name: l.name, op, inputs: l.inputs, output: l.output });
  }
  return { input: fg.input, output: fg.output, layers, values };
}
