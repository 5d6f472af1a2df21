import { FxpqError } from '../errors.js';
import type { FloatAct, Graph, Node, Op } from '../ir/types.js';
import { opFusedAct, opRole, quantPart } from '../ops/index.js';
import type { Compensation } from './compensation.js';
import type { QKind } from './qgraph.js';

export type { FloatAct } from '../ir/types.js';

/** One layer of the quantized network, still with float parameters. */
export interface FusedLayer {
  name: string;
  /** An op whose role is 'layer' (OpModule.role): conv, dense, pools, add, flatten, pad, ... */
  op: Exclude<Op, { kind: 'relu' } | { kind: 'clip' } | { kind: 'softmax' }>;
  act: FloatAct;
  inputs: string[];
  /** Float value holding this layer's output (after the fused activation). */
  output: string;
  /** When set, weights are rounded with error compensation (quant/compensate.ts). */
  comp?: Compensation;
}

export interface FusedGraph {
  graph: Graph;
  layers: FusedLayer[];
  input: string;
  /** Float value of the logits (the trailing Softmax, if any, is dropped: argmax does not need it). */
  output: string;
}

/**
 * Folds each ReLU / Clip into the Conv, Dense or Add that alone feeds it, and drops a trailing
 * Softmax. A standalone activation after a pass-through layer (e.g. pooling) becomes its own
 * layer only if needed; here it is not supported, as no exporter we know of produces it.
 */
export function fuseGraph(g: Graph): FusedGraph {
  const consumers = new Map<string, Node[]>();
  for (const n of g.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const layers: FusedLayer[] = [];
  const byOutput = new Map<string, FusedLayer>();
  const rename = new Map<string, string>();
  let output = g.output;
  for (const n of g.nodes) {
    const inputs = n.inputs.map((i) => rename.get(i) ?? i);
    const op = n.op;
    const role = opRole(op);
    if (role === 'final') {
      if (n.output !== g.output) throw new FxpqError(`node '${n.name}': Softmax must be the last node`);
      output = inputs[0];
      continue;
    }
    if (role === 'activation') {
      const p = byOutput.get(inputs[0]);
      const sole = (consumers.get(n.inputs[0]) ?? []).length === 1 && n.inputs[0] !== g.output;
      if (!p || !sole || !quantPart(p.op.kind as QKind).fusesActivation || p.act.kind !== 'none') {
        throw new FxpqError(
          `node '${n.name}' (${op.kind}): an activation must follow a Conv, Gemm or Add whose output only it reads, to be fused into its requantizer`,
        );
      }
      p.act = opFusedAct(op);
      byOutput.delete(p.output);
      p.output = n.output;
      byOutput.set(p.output, p);
      continue;
    }
    const l: FusedLayer = { name: n.name, op: op as FusedLayer['op'], act: { kind: 'none' }, inputs, output: n.output };
    layers.push(l);
    byOutput.set(n.output, l);
  }
  return { graph: g, layers, input: g.input.name, output };
}
