/**
 * The graph IR every later stage works on. Tensors carry a batch dimension that is always
 * symbolic, so shapes here are per sample: [C, H, W] for feature maps, [F] for vectors.
 * Parameters are float64 so the same IR can hold exact integer weights after quantization.
 */

export interface ParamTensor {
  shape: number[];
  data: Float64Array;
}

export interface ConvOp {
  kind: 'conv';
  /** [Cout, Cin/group, kh, kw] */
  weight: ParamTensor;
  /** [Cout] (zeros when the source had none) */
  bias: Float64Array;
  strides: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  dilations: [number, number];
  group: number;
}

export interface DenseOp {
  kind: 'dense';
  /** [out, in]: y = W x + b */
  weight: ParamTensor;
  bias: Float64Array;
}

export interface ReluOp {
  kind: 'relu';
}
/** Clip(min, max): bounded ReLU such as ReLU6 when min = 0. */
export interface ClipOp {
  kind: 'clip';
  min: number;
  max: number;
}

export interface PoolGeometry {
  kernel: [number, number];
  strides: [number, number];
  pads: [number, number, number, number];
  dilations: [number, number];
  ceilMode: boolean;
}
export interface MaxPoolOp extends PoolGeometry {
  kind: 'maxpool';
}
export interface AvgPoolOp extends PoolGeometry {
  kind: 'avgpool';
  /** ONNX count_include_pad: whether padded zeros count in the divisor. */
  countIncludePad: boolean;
}
export interface GlobalAvgPoolOp {
  kind: 'gap';
}
/** Residual add of two activation tensors of the same shape. */
export interface AddOp {
  kind: 'add';
}
/** Collapses [C, H, W] to [C*H*W] (ONNX Flatten axis=1 and Reshape to 2-D). No data movement. */
export interface FlattenOp {
  kind: 'flatten';
}
/** Zero padding that could not be merged into the next layer. */
export interface PadOp {
  kind: 'pad';
  pads: [number, number, number, number];
}
/** Only as the last node; argmax does not need it. */
export interface SoftmaxOp {
  kind: 'softmax';
}

/**
 * Every op's record, by kind. An op folder under src/ops/ that adds a kind declares its record into
 * this interface (`declare module` merging) and registers its module in src/ops/index.ts, so
 * neither this file nor any pipeline stage lists the kinds.
 */
export interface OpTypes {
  conv: ConvOp;
  dense: DenseOp;
  relu: ReluOp;
  clip: ClipOp;
  maxpool: MaxPoolOp;
  avgpool: AvgPoolOp;
  gap: GlobalAvgPoolOp;
  add: AddOp;
  flatten: FlattenOp;
  pad: PadOp;
  softmax: SoftmaxOp;
}
export type Op = OpTypes[keyof OpTypes];
export type OpKind = Op['kind'];

/** A float activation as it is fused into the requantizer of the layer before it. */
export type FloatAct = { kind: 'none' } | { kind: 'relu' } | { kind: 'clip'; min: number; max: number };

export interface Node {
  /** Name from the ONNX node that produced this layer (unique within the graph). */
  name: string;
  op: Op;
  inputs: string[];
  output: string;
}

export interface Graph {
  input: { name: string; shape: number[] };
  output: string;
  /** Topologically ordered. */
  nodes: Node[];
  /** Per-sample shape of every value, input included. */
  shapes: Record<string, number[]>;
  /** Where the graph came from. */
  source: { opset: number; producer: string; sha256: string };
}

export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
