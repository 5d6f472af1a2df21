import { FxpqError } from '../errors.js';
import type { Graph, Node } from '../ir/types.js';
import { size } from '../ir/types.js';
import { opFloat } from '../ops/index.js';
import * as K from './kernels.js';

export interface RunResult {
  /** [batch, ...outputShape] flattened. */
  output: Float64Array;
  /** Every value of the graph by name when `keepAll` was asked for. */
  values?: Map<string, Float64Array>;
}

function runNode(n: Node, ins: Float64Array[], batch: number, g: Graph, scratch: K.Scratch): Float64Array {
  return opFloat(
    n.op,
    ins,
    batch,
    n.inputs.map((v) => g.shapes[v]),
    scratch,
  );
}

/**
 * Runs the float64 engine on `batch` samples laid out as [batch, ...inputShape]. Values are freed
 * as soon as their last consumer has run unless `keepAll` is set.
 */
export function runGraph(g: Graph, x: Float64Array | Float32Array, batch: number, keepAll = false): RunResult {
  const inSize = size(g.input.shape);
  if (x.length !== batch * inSize) {
    throw new FxpqError(`input holds ${x.length} values, expected ${batch} x [${g.input.shape.join(', ')}]`);
  }
  const lastUse = new Map<string, number>();
  g.nodes.forEach((n, i) => n.inputs.forEach((v) => lastUse.set(v, i)));
  const values = new Map<string, Float64Array>();
  values.set(g.input.name, x instanceof Float64Array ? x : Float64Array.from(x));
  const scratch = new K.Scratch();
  g.nodes.forEach((n, i) => {
    const ins = n.inputs.map((v) => values.get(v)!);
    values.set(n.output, runNode(n, ins, batch, g, scratch));
    if (!keepAll) for (const v of n.inputs) if (lastUse.get(v) === i && v !== g.output) values.delete(v);
  });
  return { output: values.get(g.output)!, values: keepAll ? values : undefined };
}

/**
 * 1 for each row whose largest value occurs more than once. argmaxRows then takes the first such
 * class, so the prediction is decided by class order, not by the network: a coarse output format
 * (uniform 8 on lenet5 gives logits in steps of 0.25) can leave a few percent of images tied.
 */
export function tiedRows(y: Float64Array, batch: number): Uint8Array {
  const n = y.length / batch;
  const out = new Uint8Array(batch);
  for (let b = 0; b < batch; b++) {
    let best = y[b * n],
      count = 1;
    for (let i = 1; i < n; i++) {
      const v = y[b * n + i];
      if (v > best) {
        best = v;
        count = 1;
      } else if (v === best) count++;
    }
    out[b] = count > 1 ? 1 : 0;
  }
  return out;
}

/** Index of the largest value in each row (first one on ties, as numpy.argmax). */
export function argmaxRows(y: Float64Array, batch: number): Int32Array {
  const n = y.length / batch;
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    let best = 0;
    for (let i = 1; i < n; i++) if (y[b * n + i] > y[b * n + best]) best = i;
    out[b] = best;
  }
  return out;
}
