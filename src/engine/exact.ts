import { FxpqError } from '../errors.js';
import type { Graph } from '../ir/types.js';
import { opExactBound } from '../ops/index.js';

/** Largest integer below which every float64 sum and product of integers is exact. */
export const EXACT_LIMIT = 2 ** 53;

export interface ExactnessReport {
  /** Upper bound on |partial sum| of any multiply-accumulate in the graph. */
  maxPartialSum: number;
  /** Node where that bound is reached. */
  node: string;
  exact: boolean;
}

/**
 * Interval bound for running integer-valued tensors through the float64 engine. For a Conv or Dense
 * output channel o, every partial sum is bounded by |b_o| + sum_k |w_ok| * B_in, where B_in bounds
 * the input magnitude; ReLU, Clip, max pooling and flatten keep the bound, a residual add sums two
 * bounds, and averaging keeps it (each op's module gives its own: OpModule.exactBound). If every such bound is below 2^53 each float64 operation of the
 * engine on integers is exact (no rounding can happen), so its result equals exact integer math.
 */
export function exactnessBound(g: Graph, inputMaxAbs: number): ExactnessReport {
  const bound = new Map<string, number>([[g.input.name, inputMaxAbs]]);
  let worst = { maxPartialSum: inputMaxAbs, node: g.input.name };
  for (const n of g.nodes) {
    const b = opExactBound(
      n.op,
      n.inputs.map((v) => bound.get(v)!),
    );
    bound.set(n.output, b);
    if (b > worst.maxPartialSum) worst = { maxPartialSum: b, node: n.name };
  }
  return { ...worst, exact: worst.maxPartialSum < EXACT_LIMIT };
}

/** Throws when integer inputs bounded by `inputMaxAbs` could make the float64 engine round. */
export function checkExactRange(g: Graph, inputMaxAbs: number): ExactnessReport {
  const r = exactnessBound(g, inputMaxAbs);
  if (!r.exact) {
    throw new FxpqError(
      `node '${r.node}': partial sums may reach ${r.maxPartialSum.toExponential(3)} >= 2^53, so float64 accumulation would no longer be exact`,
    );
  }
  return r;
}
