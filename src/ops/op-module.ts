import { FxpqError } from '../errors.js';
import type { Scratch } from '../engine/kernels.js';
import type { FxFormat } from '../fixed/format.js';
import type { Val, IntLayerContext } from '../intref/run-kit.js';
import type { AttrKind, FileLayer } from '../io/fxp-kit.js';
import type { FloatAct, OpTypes } from '../ir/types.js';
import type { OnnxHandler } from '../onnx/import-kit.js';
import type { AccRange } from '../quant/accumulator.js';
import type { LayerFormats } from '../quant/assignment.js';
import type { Activation, QOpTypes } from '../quant/qgraph.js';
import type { Budget } from '../util/limits.js';

/**
 * Everything the float side of fxpq knows about one op kind, in one object (as hls4ml keeps a
 * handler per ONNX op): its ONNX import, its output shape, its float64 kernel and its bound for
 * exact integer arithmetic. Each kind has a folder under src/ops/ and one line in src/ops/index.ts; the
 * shape inference, the float engine and the exactness check call these functions and never switch
 * on the kind (docs/extending.md).
 */
export interface OpModule<K extends keyof OpTypes> {
  readonly kind: K;
  /** ONNX import: a handler per ONNX op type that this op stands for (several may share one op). */
  readonly onnx?: Readonly<Record<string, OnnxHandler>>;
  /**
   * Work one sample costs beyond its output, checked against the memory limit before anything is
   * computed (sizes come from untrusted files): the ONNX import and the .fxp.json loader both call it.
   */
  checkWork?(op: OpTypes[K], inShapes: number[][], outShape: number[], where: string): void;
  /** Per-sample output shape from the input shapes; throws an FxpqError beginning with `where`. */
  shape(op: OpTypes[K], ins: number[][], where: string): number[];
  /** The float64 engine's kernel: batched NCHW inputs in, a new output buffer out. */
  float(op: OpTypes[K], ins: Float64Array[], batch: number, inShapes: number[][], scratch: Scratch): Float64Array;
  /**
   * Bound on the magnitude of every partial sum the kernel forms, given bounds on its inputs: when
   * every bound of a graph is below 2^53, float64 arithmetic on integers is exact (engine/exact.ts).
   */
  exactBound(op: OpTypes[K], ins: number[]): number;
  /** Parameters and multiply-accumulates per image (`fxpq info`, compression ratios); none when absent. */
  stats?(op: OpTypes[K], inShapes: number[][], outShape: number[]): { params: number; macs: number };
  /**
   * What the op becomes in the quantized graph: 'activation' (ReLU, Clip) fuses into the
   * requantizer of the layer before it, 'final' (Softmax) is dropped at the end (the arg-max does
   * not need it), 'layer' is a quantized layer of its own (`quant`).
   */
  readonly role: K extends keyof QOpTypes ? 'layer' : 'activation' | 'final';
  readonly quant: K extends keyof QOpTypes ? QuantPart<K> : undefined;
  /** An activation's form in the requantizer of the layer it fuses into. */
  readonly fusedAct?: (op: OpTypes[K]) => FloatAct;
}

/**
 * The quantized side of an op that is a layer of the integer graph: how it is built from the float
 * op and the chosen formats, its accumulator, its integer kernel and its .fxp.json form.
 */
export interface QuantPart<K extends keyof QOpTypes> {
  /** The output keeps its input's format (no arithmetic that rounds: max pooling, flatten, pad). */
  readonly passThrough: boolean;
  /** A ReLU or Clip after it fuses into its requantizer. */
  readonly fusesActivation: boolean;
  /** Inputs it reads: [min, max]. */
  readonly arity: readonly [number, number];
  /** The quantized op from the float one. */
  build(src: OpTypes[K], c: QuantBuildContext): QOpTypes[K];
  /** The exact range of its accumulator, for the layers that have one (src/quant/accumulator.ts). */
  accRange?(op: QOpTypes[K], inFormats: FxFormat[], inShapes: number[][]): AccRange;
  /** Its integer-only kernel: the value of its output. */
  intref(op: QOpTypes[K], c: IntLayerContext): Val;
  /** Per-sample output shape in a .fxp.json (the weights' fit to the input is checked by `file.read`). */
  shape(op: QOpTypes[K], ins: number[][], where: string): number[];
  /** Work one sample costs, checked against the memory limit when a .fxp.json is loaded. */
  checkWork?(op: QOpTypes[K], inShapes: number[][], outShape: number[], where: string): void;
  readonly file: {
    /** The fields of `attrs` it uses, all optional, merged into the file schema. */
    readonly attrs: Readonly<Record<string, AttrKind>>;
    /** Writes its attributes (and weights) into the file layer. */
    write(op: QOpTypes[K], fl: FileLayer): void;
    /** The op from a validated file layer; throws an FxpqError naming `where` and the field. */
    read(L: FileLayer, inShapes: number[][], where: string, budget: Budget): QOpTypes[K];
  };
}

/** What the graph builder (quant/build.ts) hands an op's `build`. */
export interface QuantBuildContext {
  name: string;
  inFormats: FxFormat[];
  /** The layer's output format (its input's for a pass-through op). */
  out: FxFormat;
  formats: LayerFormats;
  /** The fused activation, quantized to the output format. */
  act: Activation;
  /**
   * Integers of a weight or bias tensor in format f, cached; `compensated` rounds with the
   * layer's error compensation where one is attached and the formats allow it.
   */
  quantize(data: Float64Array, f: FxFormat, compensated: boolean): Int32Array;
}

/** An op that needs a per-sample input of rank r: [C, H, W] (3) or [F] (1). */
export function needRank(x: number[], r: number, where: string): void {
  if (x.length !== r) throw new FxpqError(`${where}: expected a rank-${r + 1} input (batch included), got [N, ${x.join(', ')}]`);
}
