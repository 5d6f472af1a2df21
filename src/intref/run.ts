import { FxpqError } from '../errors.js';
import { freeResident, fromResident, type Resident, toResident } from '../engine/gemm.js';
import * as K from '../engine/kernels.js';
import { size } from '../ir/types.js';
import { quantOf } from '../ops/index.js';
import type { QGraph } from '../quant/qgraph.js';
import * as I from './ops.js';
import type { IntLayerContext, Val } from './run-kit.js';

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
  if (x.length !== batch * size(inV.shape))
    throw new FxpqError(`input holds ${x.length} values, expected ${batch} x [${inV.shape.join(', ')}]`);
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
  const vals = new Map<string, Val>();
  // Names per Val (flatten passes its input on): a resident tensor is freed when none is left.
  const names = new Map<Val, number>();
  for (const [k, v] of values) {
    const val = { f: v };
    vals.set(k, val);
    names.set(val, 1);
  }
  const made: Resident[] = [];
  const dims = (name: string): [number, number, number] => {
    const s = q.values[name].shape;
    return s.length === 3 ? [s[0], s[1], s[2]] : [s.reduce((a, b) => a * b, 1), 1, 1];
  };
  const f64 = (v: Val): Float64Array => v.f ?? (v.f = fromResident(v.r!));
  /** The value as a resident tensor (converted on first use), or null where its format does not fit int32. */
  const res = (name: string, v: Val): Resident | null => {
    if (v.r) return v.r;
    const es = I.residentBytes(q.values[name].format);
    if (!es) return null;
    const [c, h, w] = dims(name);
    v.r = toResident(v.f!, batch, c, h, w, es);
    made.push(v.r);
    return v.r;
  };
  const resident = (r: Resident | null): Val | null => {
    if (!r) return null;
    made.push(r);
    return { r };
  };
  try {
    q.layers.forEach((l, i) => {
      if (i < from) return;
      // Each layer's op module runs its integer kernel (OpModule.quant.intref).
      const ins = l.inputs.map((v) => vals.get(v)!);
      const c: IntLayerContext = {
        ins,
        inFormats: l.inputs.map((v) => q.values[v].format),
        inShapes: l.inputs.map((v) => q.values[v].shape),
        outFormat: q.values[l.output].format,
        batch,
        scratch,
        f64: (k) => f64(ins[k]),
        res: (k) => res(l.inputs[k], ins[k]),
        resident,
      };
      const y: Val = quantOf(l.op).intref(l.op as never, c);
      vals.set(l.output, y);
      names.set(y, (names.get(y) ?? 0) + 1);
      if (!keepAll) {
        for (const v of l.inputs) {
          const val = vals.get(v);
          if (lastUse.get(v) !== i || v === q.output || !val) continue;
          vals.delete(v);
          values.delete(v);
          const left = names.get(val)! - 1;
          names.set(val, left);
          if (left <= 0 && val.r && val.r.at >= 0) freeResident(val.r);
        }
      }
    });
    for (const [k, v] of vals) if (keepAll || k === q.output) values.set(k, f64(v));
  } finally {
    for (const r of made) if (r.at >= 0) freeResident(r);
  }
  return { output: values.get(q.output)!, values: keepAll ? values : undefined };
}
