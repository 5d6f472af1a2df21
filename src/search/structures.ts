import type { FxFormat } from '../fixed/format.js';
import { size } from '../ir/types.js';
import type { Assignment } from '../quant/build.js';
import type { FusedGraph } from '../quant/fuse.js';
import { quantPart } from '../ops/index.js';
import type { QKind } from '../quant/qgraph.js';

/**
 * The data structures the search assigns formats to: the input image, and per layer its weights,
 * bias and output activations (a layer's input activations are its producer's output, so they
 * share that format; pass-through layers such as max pooling keep their input's format).
 */
export type DsKind = 'input' | 'weights' | 'bias' | 'output';
export interface DataStructure {
  key: string;
  kind: DsKind;
  layer: string | null;
  /** First layer whose result depends on this data structure's format. */
  from: number;
}

export type Objective = 'params' | 'overall' | 'bops';

export function dataStructures(fg: FusedGraph): DataStructure[] {
  const ds: DataStructure[] = [{ key: 'input', kind: 'input', layer: null, from: 0 }];
  fg.layers.forEach((l, i) => {
    if (l.op.kind === 'conv' || l.op.kind === 'dense') {
      ds.push({ key: `${l.name}:weights`, kind: 'weights', layer: l.name, from: i });
      ds.push({ key: `${l.name}:bias`, kind: 'bias', layer: l.name, from: i });
    }
    if (!quantPart(l.op.kind as QKind).passThrough) ds.push({ key: `${l.name}:output`, kind: 'output', layer: l.name, from: i });
  });
  return ds;
}

/** The input image and layer outputs: tensors of one inference, not stored parameters. */
export const isActivation = (d: DataStructure): boolean => d.kind === 'input' || d.kind === 'output';

export function getFormat(a: Assignment, d: DataStructure): FxFormat {
  if (d.kind === 'input') return a.input;
  return a.layers[d.layer!][d.kind]!;
}

export function withFormat(a: Assignment, d: DataStructure, f: FxFormat): Assignment {
  if (d.kind === 'input') return { input: f, layers: a.layers };
  return { input: a.input, layers: { ...a.layers, [d.layer!]: { ...a.layers[d.layer!], [d.kind]: f } } };
}

/**
 * Memory (or bit-operation) cost of an assignment for each objective:
 * - params: weight and bias bits;
 * - overall: params plus the bits of every stored activation tensor of one inference (the input and
 *   each layer output except flatten, which aliases its input), each counted once;
 * - bops: sum over Conv/Dense layers of MACs x weight bits x input bits.
 */
export class CostModel {
  private readonly weighted: { layer: string; nW: number; nB: number; macs: number; input: string }[] = [];
  /** Stored tensor sizes, keyed by the data structure whose format they carry. */
  private readonly actElems = new Map<string, number>();

  constructor(fg: FusedGraph) {
    const shapes = fg.graph.shapes;
    const owner = new Map<string, string>([[fg.input, 'input']]);
    for (const l of fg.layers) {
      const own = quantPart(l.op.kind as QKind).passThrough ? owner.get(l.inputs[0])! : `${l.name}:output`;
      owner.set(l.output, own);
      if (l.op.kind !== 'flatten') this.actElems.set(own, (this.actElems.get(own) ?? 0) + size(shapes[l.output]));
      if (l.op.kind === 'conv' || l.op.kind === 'dense') {
        const outElems = size(shapes[l.output]);
        const perOut = l.op.weight.data.length / l.op.bias.length;
        this.weighted.push({
          layer: l.name,
          nW: l.op.weight.data.length,
          nB: l.op.bias.length,
          macs: l.op.kind === 'dense' ? l.op.weight.data.length : outElems * perOut,
          input: owner.get(l.inputs[0])!,
        });
      }
    }
    this.actElems.set('input', (this.actElems.get('input') ?? 0) + size(shapes[fg.input]));
  }

  paramBits(a: Assignment): number {
    let s = 0;
    for (const w of this.weighted) s += w.nW * a.layers[w.layer].weights!.wl + w.nB * a.layers[w.layer].bias!.wl;
    return s;
  }

  activationBits(a: Assignment): number {
    let s = 0;
    for (const [key, n] of this.actElems) s += n * (key === 'input' ? a.input.wl : a.layers[key.slice(0, -':output'.length)].output!.wl);
    return s;
  }

  bops(a: Assignment): number {
    let s = 0;
    for (const w of this.weighted) {
      const inWl = w.input === 'input' ? a.input.wl : a.layers[w.input.slice(0, -':output'.length)].output!.wl;
      s += w.macs * a.layers[w.layer].weights!.wl * inWl;
    }
    return s;
  }

  /**
   * The quantity the search minimises. Under `params` the activations are a much smaller second
   * term, so that steps which also narrow activations win ties; the search stops once no weight or
   * bias can shrink (fxpqnet.ts).
   */
  cost(a: Assignment, objective: Objective): number {
    const act = this.activationBits(a);
    const par = this.paramBits(a);
    if (objective === 'params') return par + 1e-3 * act;
    if (objective === 'overall') return par + act;
    return this.bops(a) + 1e-3 * (par + act);
  }
}
