import { FxpqError, UnsupportedError } from '../errors.js';
import type { Op, PoolGeometry } from '../ir/types.js';
import type { Budget } from '../util/limits.js';
import { fmtShape } from '../util/limits.js';
import type { Attrs, ConstTensor } from './proto.js';

/**
 * What an op's ONNX handler (OpModule.onnx, in the op's folder) sees of the node being imported,
 * and the helpers the handlers share. The importer (import.ts) owns the graph walk, constant
 * folding, BatchNorm and bias folding; a handler reads its node and emits IR ops.
 */
export interface ImportContext {
  /** Unique node name, and "node 'name' (OpType)" for messages. */
  name: string;
  where: string;
  opType: string;
  opset: number;
  at: Attrs;
  /** Input names (aliases resolved; '' for an omitted optional input) and output names. */
  ins: string[];
  outs: string[];
  /** Inputs that are computed tensors (not constants), and the per-sample shape of the first input. */
  dynamic: string[];
  xShape: number[];
  /** Per-sample shape of a computed tensor. */
  shape(name: string): number[] | undefined;
  /** Input k as a constant, if it is one; or an error naming its role when it must be. */
  c(k: number): ConstTensor | undefined;
  needConst(k: number, role: string): ConstTensor;
  /** Adds an IR node for this ONNX node (inputs default to the first input). */
  emit(op: Op, inputs?: string[]): void;
  /** Makes the node's output another name for `input` (no IR node). */
  alias(input: string): void;
  /** A constant operand of Add or Mul: a per-channel affine folded into the layer before it. */
  affine(op: 'Add' | 'Mul'): void;
  /** The running memory budget of the import. */
  budget: Budget;
}

/**
 * Shape(x) of a dynamic tensor is known except for the batch size. It is folded like any
 * constant with this sentinel in place of the batch, so that `x.view(x.size(0), -1)` (Shape ->
 * Gather -> Unsqueeze -> Concat -> Reshape) resolves; Reshape reads the sentinel as "keep batch".
 */
export const BATCH_SENTINEL = -987654321;

/** Imports one ONNX node of a given op type. */
export type OnnxHandler = (c: ImportContext) => void;

/** A weight with a zero-size dimension computes nothing: refused at import. */
export function nonEmpty(dims: number[], role: string, where: string): void {
  if (dims.some((d) => d === 0)) throw new FxpqError(`${where}: ${role} of shape ${fmtShape(dims)} has a zero-size dimension`);
}

export const positive = (v: [number, number], attr: string, where: string): [number, number] => {
  if (!v.every((d) => Number.isInteger(d) && d >= 1)) throw new UnsupportedError(`${where}: ${attr} [${v}] must be positive integers`);
  return v;
};

export const pair = (v: number[]): [number, number] => {
  if (v.length !== 2) throw new UnsupportedError(`only 2-D spatial attributes are supported, got [${v}]`);
  return [v[0], v[1]];
};

export function resolvePads(
  at: Attrs,
  x: number[],
  k: [number, number],
  s: [number, number],
  d: [number, number],
  where: string,
): [number, number, number, number] {
  const autoPad = at.str('auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET') {
    const p = at.ints('pads', [0, 0, 0, 0])!;
    if (p.length !== 4) throw new UnsupportedError(`${where}: pads must have 4 entries for a 2-D window`);
    return [p[0], p[1], p[2], p[3]];
  }
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') throw new UnsupportedError(`${where}: auto_pad '${autoPad}' is not supported`);
  const total = [0, 1].map((i) => Math.max(0, (Math.ceil(x[i + 1] / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - x[i + 1]));
  const small = total.map((t) => Math.floor(t / 2));
  const big = total.map((t, i) => t - small[i]);
  return autoPad === 'SAME_UPPER' ? [small[0], small[1], big[0], big[1]] : [big[0], big[1], small[0], small[1]];
}

export function poolGeometry(at: Attrs, x: number[], where: string): PoolGeometry {
  if (at.int('ceil_mode', 0) !== 0)
    throw new UnsupportedError(`${where}: ceil_mode=1 is not supported; use floor mode (the PyTorch default)`);
  if (at.int('storage_order', 0) !== 0) throw new UnsupportedError(`${where}: storage_order=1 is not supported`);
  const kernel = positive(pair(at.ints('kernel_shape', undefined) ?? []), 'kernel_shape', where);
  const strides = positive(pair(at.ints('strides', [1, 1])!), 'strides', where);
  const dilations = positive(pair(at.ints('dilations', [1, 1])!), 'dilations', where);
  const pads = resolvePads(at, x, kernel, strides, dilations, where);
  if (!pads.every((v) => Number.isInteger(v) && v >= 0)) throw new FxpqError(`${where}: pads [${pads}] must be non-negative integers`);
  // ONNX requires each pad to be smaller than the kernel along its axis (a window of padding only).
  if (pads.some((v, i) => v >= kernel[i % 2]))
    throw new FxpqError(`${where}: pads [${pads}] must each be smaller than the kernel ${kernel.join('x')}`);
  return { kernel, strides, dilations, pads, ceilMode: false };
}
