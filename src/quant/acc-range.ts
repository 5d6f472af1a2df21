import { quantOf } from '../ops/index.js';
import type { AccRange } from './accumulator.js';
import type { QGraph, QLayer } from './qgraph.js';

/** Accumulator range of every layer that has one (conv, dense, add, average pools), from its op's module. */
export function layerAccRange(q: QGraph, l: QLayer): AccRange | null {
  const part = quantOf(l.op);
  if (!part.accRange) return null;
  return part.accRange(
    l.op as never,
    l.inputs.map((i) => q.values[i].format),
    l.inputs.map((i) => q.values[i].shape),
  );
}
