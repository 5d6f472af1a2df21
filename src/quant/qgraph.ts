import type { FxFormat } from '../fixed/format.js';
import type { PoolGeometry } from '../ir/types.js';

/**
 * The quantized graph: integer weights and a fixed-point format for every tensor. Activation
 * functions are fused into the layer that produces their input (as the hardware's requantizer
 * does), so every layer output below is a tensor that is actually stored.
 */

/** Applied to the rounded accumulator before saturation: relu clamps at 0, clip at quantized bounds. */
export type Activation =
  | { kind: 'none' }
  | { kind: 'relu' }
  /** Bounds as integers of the layer's output format (e.g. ReLU6). */
  | { kind: 'clip'; lo: number; hi: number; min: number; max: number };

export interface IntTensor {
  shape: number[];
  data: Int32Array;
}

export interface QConv {
  kind: 'conv';
  weight: IntTensor;
  bias: Int32Array;
  weightFormat: FxFormat;
  biasFormat: FxFormat;
  strides: [number, number];
  pads: [number, number, number, number];
  dilations: [number, number];
  group: number;
  act: Activation;
}
export interface QDense {
  kind: 'dense';
  weight: IntTensor;
  bias: Int32Array;
  weightFormat: FxFormat;
  biasFormat: FxFormat;
  act: Activation;
}
export interface QMaxPool extends PoolGeometry {
  kind: 'maxpool';
}
/** Window sum times a rounded reciprocal with `recipBits` fraction bits (see intref/ops.ts). */
export interface QAvgPool extends PoolGeometry {
  kind: 'avgpool';
  countIncludePad: boolean;
  recipBits: number;
}
export interface QGap {
  kind: 'gap';
  recipBits: number;
}
/** Operands aligned to the larger fraction length, added, then requantized. */
export interface QAdd {
  kind: 'add';
  act: Activation;
}
export interface QFlatten {
  kind: 'flatten';
}
export interface QPad {
  kind: 'pad';
  pads: [number, number, number, number];
}

/**
 * Every quantized layer's record, by kind. An op folder under src/ops/ that adds a kind declares
 * its record into this interface (`declare module` merging), as for OpTypes in src/ir/types.ts.
 */
export interface QOpTypes {
  conv: QConv;
  dense: QDense;
  maxpool: QMaxPool;
  avgpool: QAvgPool;
  gap: QGap;
  add: QAdd;
  flatten: QFlatten;
  pad: QPad;
}
export type QOp = QOpTypes[keyof QOpTypes];
export type QKind = QOp['kind'];

export interface QLayer {
  name: string;
  op: QOp;
  inputs: string[];
  output: string;
}

export interface QValue {
  shape: number[];
  format: FxFormat;
}

export interface QGraph {
  input: string;
  output: string;
  layers: QLayer[];
  /** Every tensor: the input, and each layer's output. */
  values: Record<string, QValue>;
}
