import type { FxFormat } from '../fixed/format.js';
import { size } from '../ir/types.js';
import type { QGraph } from './qgraph.js';

type F = { wl: number; fl: number; signed: boolean };
export interface LayerReport {
  name: string;
  kind: string;
  weights: F | null;
  bias: F | null;
  input: F;
  output: F;
  params: number;
  param_bits: number;
}
export interface QuantReport {
  method: string;
  compression: { params: number; overall: number };
  bits: { params_float: number; params_quantized: number; activations_float: number; activations_quantized: number };
  layers: LayerReport[];
  calibration: { images: number; agreement: number | null };
  seconds: number;
  [k: string]: unknown;
}

const f = (x: FxFormat): F => ({ wl: x.wl, fl: x.fl, signed: x.signed });

/**
 * Memory of a quantized network against float32: parameters are weights and biases; activations
 * are the input and every stored layer output of one inference, each counted once (a flatten
 * output is the same memory as its input and is not counted again).
 */
export function memoryBits(q: QGraph): QuantReport['bits'] & { params: number } {
  let params = 0,
    pq = 0,
    af = 0,
    aq = 0;
  for (const l of q.layers) {
    if (l.op.kind === 'conv' || l.op.kind === 'dense') {
      const n = l.op.weight.data.length,
        b = l.op.bias.length;
      params += n + b;
      pq += n * l.op.weightFormat.wl + b * l.op.biasFormat.wl;
    }
  }
  const stored = [q.input, ...q.layers.filter((l) => l.op.kind !== 'flatten').map((l) => l.output)];
  for (const v of stored) {
    const n = size(q.values[v].shape);
    af += 32 * n;
    aq += n * q.values[v].format.wl;
  }
  return { params, params_float: 32 * params, params_quantized: pq, activations_float: af, activations_quantized: aq };
}

export function buildReport(
  q: QGraph,
  method: string,
  calibration: QuantReport['calibration'],
  seconds: number,
  extra: Record<string, unknown> = {},
): QuantReport {
  const m = memoryBits(q);
  const layers = q.layers.map((l): LayerReport => {
    const w = l.op.kind === 'conv' || l.op.kind === 'dense' ? l.op : null;
    const n = w ? w.weight.data.length + w.bias.length : 0;
    return {
      name: l.name,
      kind: l.op.kind,
      weights: w ? f(w.weightFormat) : null,
      bias: w ? f(w.biasFormat) : null,
      input: f(q.values[l.inputs[0]].format),
      output: f(q.values[l.output].format),
      params: n,
      param_bits: w ? w.weight.data.length * w.weightFormat.wl + w.bias.length * w.biasFormat.wl : 0,
    };
  });
  return {
    method,
    compression: {
      params: m.params_float / m.params_quantized,
      overall: (m.params_float + m.activations_float) / (m.params_quantized + m.activations_quantized),
    },
    bits: {
      params_float: m.params_float,
      params_quantized: m.params_quantized,
      activations_float: m.activations_float,
      activations_quantized: m.activations_quantized,
    },
    layers,
    calibration,
    seconds,
    ...extra,
  };
}
