import { FxpqError } from '../errors.js';
import * as K from '../engine/kernels.js';
import { size } from '../ir/types.js';
import type { QGraph } from '../quant/qgraph.js';
import * as I from './ops.js';

export interface IntRunResult {
  /** Integer logits [batch, classes]; real value = q * 2^-fl of the output format. */
  output: Float64Array;
  values?: Map<string, Float64Array>;
}

/**
 * The integer-only reference: quantizes the real input to the input format, then runs every
 * layer with integer arithmetic (intref/ops.ts). Its outputs are the ground truth that the
 * simulator and the RTL must match bit for bit.
 */
export function runQGraph(q: QGraph, x: ArrayLike<number>, batch: number, keepAll = false): IntRunResult {
  const inV = q.values[q.input];
  if (x.length !== batch * size(inV.shape)) throw new FxpqError(`input holds ${x.length} values, expected ${batch} x [${inV.shape.join(', ')}]`);
  const values = new Map<string, Float64Array>();
  values.set(q.input, I.quantizeInput(x, inV.format));
  return runFrom(q, values, batch, keepAll);
}

/** Runs from already-quantized integer input (e.g. test vectors). */
export function runQGraphInt(q: QGraph, xq: Float64Array, batch: number, keepAll = false): IntRunResult {
  return runFrom(q, new Map([[q.input, xq]]), batch, keepAll);
}

/**
 * Runs layers `from`..end. `values` must hold every tensor those layers read that an earlier layer
 * produced (the search keeps them cached). Tensors are freed after their last use unless keepAll.
 */
export function runLayers(q: QGraph, from: number, values: Map<string, Float64Array>, batch: number, keepAll = false): IntRunResult {
  return runFrom(q, values, batch, keepAll, from);
}

function runFrom(q: QGraph, values: Map<string, Float64Array>, batch: number, keepAll: boolean, from = 0): IntRunResult {
  const lastUse = new Map<string, number>();
  q.layers.forEach((l, i) => l.inputs.forEach((v) => lastUse.set(v, i)));
  const scratch = new K.Scratch();
  q.layers.forEach((l, i) => {
    if (i < from) return;
    const x = values.get(l.inputs[0])!;
    const inV = q.values[l.inputs[0]];
    const outF = q.values[l.output].format;
    const op = l.op;
    let y: Float64Array;
    switch (op.kind) {
      case 'conv': y = I.conv(op, x, batch, inV.shape, inV.format, outF, scratch); break;
      case 'dense': y = I.dense(op, x, batch, inV.format, outF); break;
      case 'add': y = I.add(op, x, values.get(l.inputs[1])!, inV.format, q.values[l.inputs[1]].format, outF); break;
      case 'maxpool': y = K.maxpool({ ...op, kind: 'maxpool' }, x, batch, inV.shape); break;
      case 'avgpool': y = I.avgpool(op, x, batch, inV.shape, inV.format, outF); break;
      case 'gap': y = I.gap(op, x, batch, inV.shape, inV.format, outF); break;
      case 'flatten': y = x; break;
      case 'pad': y = K.pad(op, x, batch, inV.shape); break;
    }
    values.set(l.output, y);
    if (!keepAll) for (const v of l.inputs) if (lastUse.get(v) === i && v !== q.output) values.delete(v);
  });
  return { output: values.get(q.output)!, values: keepAll ? values : undefined };
}
