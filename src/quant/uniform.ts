import { dict } from '../util/dict.js';
import { type FxFormat, maxRuleFormat } from '../fixed/format.js';
import type { Assignment } from './build.js';
import { maxAbsOf, type ValueStats } from './calibrate.js';
import type { FusedGraph } from './fuse.js';

/**
 * Ristretto's rule for every data structure at word length `wl`: fl = wl - IL with
 * IL = ceil(log2 max|x|) (+1 for the sign bit when the data can be negative). Weights and biases
 * use their own values; activations use the range seen on calibration images. Tensors that are
 * never negative (after ReLU, pooling of ReLU outputs, images in [0, 1]) get unsigned formats.
 */
export function maxRuleActivation(st: ValueStats | undefined, wl: number): FxFormat {
  const signed = !st || st.min < 0;
  return maxRuleFormat(st?.maxAbs ?? 1, signed ? Math.max(wl, 2) : wl, signed);
}

/** Every data structure at `wl` bits with max-rule fraction lengths (also the search's start). */
export function uniformAssignment(fg: FusedGraph, stats: Map<string, ValueStats>, wl: number): Assignment {
  const a: Assignment = { input: maxRuleActivation(stats.get(fg.input), wl), layers: dict() };
  for (const l of fg.layers) {
    const f: Assignment['layers'][string] = { output: maxRuleActivation(stats.get(l.output), wl) };
    if (l.op.kind === 'conv' || l.op.kind === 'dense') {
      f.weights = maxRuleFormat(maxAbsOf(l.op.weight.data), Math.max(wl, 2), true);
      f.bias = maxRuleFormat(maxAbsOf(l.op.bias), Math.max(wl, 2), true);
    }
    a.layers[l.name] = f;
  }
  return a;
}
