/**
 * What error-compensating rounding (compensate.ts) attaches to a layer: the data, apart from the
 * code that makes and uses it, so the fused graph (fuse.ts) can carry it without importing the
 * statistics and kernels.
 */
export interface CompBlock {
  /** Columns of this block in the order they are rounded: largest second moment first (GPTQ's "act order"). */
  perm: Int32Array;
  /** Upper Cholesky factor U of the block's H^-1 in that order (H^-1 = U^T U), its upper triangle packed by rows (factor.ts upperIndex). */
  u: Float64Array;
}
export interface Compensation {
  /** Inputs per output (a row of the weight matrix). */
  n: number;
  /**
   * Consecutive input ranges, each compensated on its own (H taken block-diagonal): a layer with
   * thousands of inputs per output (ResNet-18's 3x3x512) would otherwise need a factorisation and
   * per-format work cubic and quadratic in that count.
   */
  blocks: CompBlock[];
}
