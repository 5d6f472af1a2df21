import type { Graph, Node } from './types.js';
import { opStats } from '../ops/index.js';

export interface LayerStats {
  name: string;
  kind: string;
  inputShape: number[];
  outputShape: number[];
  params: number;
  macs: number;
}

/** Weights + biases of a node, and multiply-accumulates per image. */
export function nodeStats(g: Graph, n: Node): LayerStats {
  const inputShape = g.shapes[n.inputs[0]];
  const outputShape = g.shapes[n.output];
  const { params, macs } = opStats(
    n.op,
    n.inputs.map((i) => g.shapes[i]),
    outputShape,
  );
  return { name: n.name, kind: n.op.kind, inputShape, outputShape, params, macs };
}

export function graphStats(g: Graph): { layers: LayerStats[]; params: number; macs: number } {
  const layers = g.nodes.map((n) => nodeStats(g, n));
  return {
    layers,
    params: layers.reduce((a, l) => a + l.params, 0),
    macs: layers.reduce((a, l) => a + l.macs, 0),
  };
}
