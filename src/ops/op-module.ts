import { FxpqError } from '../errors.js';
import type { Scratch } from '../engine/kernels.js';
import type { OpTypes } from '../ir/types.js';
import type { OnnxHandler } from '../onnx/import-kit.js';

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
}

/** An op that needs a per-sample input of rank r: [C, H, W] (3) or [F] (1). */
export function needRank(x: number[], r: number, where: string): void {
  if (x.length !== r) throw new FxpqError(`${where}: expected a rank-${r + 1} input (batch included), got [N, ${x.join(', ')}]`);
}
