import type { Resident } from '../engine/gemm.js';
import type { Scratch } from '../engine/kernels.js';
import type { FxFormat } from '../fixed/format.js';

/**
 * A tensor during an integer-reference run: float64 integers (NCHW), a resident tensor
 * (channel-last integers in the integer kernels' memory, see engine/gemm.ts), or both once
 * converted. Layers whose integer forms apply (intref/ops.ts) pass resident tensors from one to
 * the next, so nothing is converted or copied between them.
 */
export interface Val {
  f?: Float64Array;
  r?: Resident;
}

/** What an op's integer kernel (OpModule.quant.intref) sees of the run. */
export interface IntLayerContext {
  /** The layer's inputs, their formats and per-sample shapes, and its output format. */
  ins: Val[];
  inFormats: FxFormat[];
  inShapes: number[][];
  outFormat: FxFormat;
  batch: number;
  scratch: Scratch;
  /** Input k as float64 integers (converted from its resident form on first use). */
  f64(k: number): Float64Array;
  /** Input k as a resident tensor (converted on first use), or null where its format does not fit int32. */
  res(k: number): Resident | null;
  /** A resident result as the layer's value (null stays null, for `??` fallbacks). */
  resident(r: Resident | null): Val | null;
}
