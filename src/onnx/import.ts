import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FxpqError, UnsupportedError } from '../errors.js';
import { inferShape } from '../ir/shapes.js';
import type { Graph, Node, Op } from '../ir/types.js';
import { size } from '../ir/types.js';
import { onnxHandlers, opCheckWork } from '../ops/index.js';
import { dict } from '../util/dict.js';
import { Budget, fmtShape, shapeElements, shortName } from '../util/limits.js';
import { BATCH_SENTINEL, evalConstNode } from './constfold.js';
import type { ImportContext, OnnxHandler } from './import-kit.js';
import { Attrs, type ConstTensor, decodeModel, type NodeProto, tensorValues, toNum } from './proto.js';

/**
 * ONNX nodes the importer rewrites itself (no IR op of their own): views, and per-channel affines
 * (BatchNormalization, a constant Mul) folded into the Conv/Dense before them. Every other op type
 * comes from an op module's handlers (src/ops/<kind>: OpModule.onnx).
 */
const REWRITES = ['Mul', 'BatchNormalization', 'Identity', 'Dropout'] as const;
const HANDLERS = onnxHandlers();

export const SUPPORTED_OPS: readonly string[] = [...HANDLERS.keys(), ...REWRITES, 'Constant'];
export const MIN_OPSET = 11;
export const MAX_OPSET = 21;

/** A per-channel y = x * scale + shift that must be folded into the Conv/Dense before it (BN, bias Add, Mul). */
interface AffineOp {
  kind: 'affine';
  scale: Float64Array;
  shift: Float64Array;
  origin: string;
}
type PreOp = Op | AffineOp;
interface PreNode {
  name: string;
  op: PreOp;
  inputs: string[];
  output: string;
}

export interface ImportOptions {
  /** Name shown in messages (defaults to "model"). */
  file?: string;
}

export function importOnnxFile(path: string): Graph {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new FxpqError(`${path}: cannot read model file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return importOnnx(buf, { file: path });
}

/** ONNX bytes -> IR graph: folds constants, BatchNorm and bias adds, merges zero Pads, infers shapes. */
export function importOnnx(buf: Uint8Array, opts: ImportOptions = {}): Graph {
  const file = opts.file ?? 'model';
  const model = decodeModel(buf, file);
  const graph = model.graph!;
  const opset = readOpset(model.opsetImport ?? [], file);

  // Sizes are declared by the file, so each is checked before it is allocated, and so is the running
  // total of initializers, folded constants and the activations of one sample (the buffers an
  // engine needs per image).
  const budget = new Budget(`${shortName(file)}: the constants and one sample's activations`);
  const consts = new Map<string, ConstTensor>();
  // Every constant, read or folded, is stored here: its data must fill its dims exactly and be finite.
  const putConst = (name: string, t: ConstTensor, what: string): void => {
    const n = shapeElements(t.dims, `${shortName(file)}: ${what} of shape ${fmtShape(t.dims)}`);
    if (t.data.length !== n) {
      throw new FxpqError(`${shortName(file)}: ${what} holds ${t.data.length} values, but its shape ${fmtShape(t.dims)} has ${n} elements`);
    }
    checkFinite(t, what, file);
    consts.set(name, t);
  };
  for (const init of graph.initializer ?? []) {
    const what = `initializer '${shortName(init.name ?? '')}'`;
    const t = tensorValues(init, `${shortName(file)}: ${what}`, budget);
    putConst(init.name ?? '', t, what);
  }

  const realInputs = (graph.input ?? []).filter((i) => !consts.has(i.name ?? ''));
  if (realInputs.length !== 1) {
    throw new UnsupportedError(
      `${file}: the graph must have exactly one non-constant input, found ${realInputs.length} (${realInputs.map((i) => i.name).join(', ')})`,
    );
  }
  const inputName = realInputs[0].name ?? '';
  const inputShape = readInputShape(realInputs[0], file);
  const inWhat = `${shortName(file)}: input '${shortName(inputName)}' of per-sample shape ${fmtShape(inputShape)}`;
  budget.take(shapeElements(inputShape, inWhat), ACT_BYTES, inWhat);
  if ((graph.output ?? []).length !== 1) {
    throw new UnsupportedError(`${file}: the graph must have exactly one output, found ${(graph.output ?? []).length}`);
  }

  const shapes = dict<number[]>([[inputName, inputShape]]);
  const alias = new Map<string, string>();
  const resolve = (n: string): string => {
    let r = n;
    while (alias.has(r)) r = alias.get(r)!;
    return r;
  };
  const pre: PreNode[] = [];
  const usedNames = new Set<string>();

  for (const node of topoSort(graph.node ?? [], consts, inputName, file)) {
    const op = node.opType ?? '';
    const at = new Attrs(node);
    let name = at.nodeName;
    for (let k = 1; usedNames.has(name); k++) name = `${at.nodeName}_${k}`;
    usedNames.add(name);
    const where = `node '${shortName(name)}' (${shortName(op, 30)})`;
    if (node.domain && node.domain !== 'ai.onnx') {
      throw new UnsupportedError(`${where}: custom domain '${node.domain}' is not supported; supported ops: ${SUPPORTED_OPS.join(', ')}`);
    }
    const ins = (node.input ?? []).map((i) => (i === '' ? '' : resolve(i)));
    const outs = node.output ?? [];
    // Shape(x) of a dynamic tensor folds to a constant with a symbolic batch entry.
    if (op === 'Shape' && ins[0] && !consts.has(ins[0]) && shapes[ins[0]]) {
      const s = shapes[ins[0]];
      consts.set(outs[0], { dims: [s.length + 1], data: Float64Array.from([BATCH_SENTINEL, ...s]), dtype: 'int64' });
      continue;
    }
    const dynamic = ins.filter((i) => i !== '' && !consts.has(i));
    if (dynamic.length === 0) {
      const vals = evalConstNode(
        node,
        ins.map((i) => (i === '' ? undefined : consts.get(i))),
        opset,
        budget,
        shortName(name),
      );
      vals.forEach((v, k) => {
        if (outs[k]) putConst(outs[k], v, `${where}: folded constant '${shortName(outs[k])}'`);
      });
      continue;
    }
    for (const d of dynamic) {
      if (!shapes[d]) throw new FxpqError(`${where}: input '${d}' is not produced by any earlier node`);
    }
    const usedOuts = outs.slice(1).filter((o) => o !== '' && isConsumed(graph, o));
    if (usedOuts.length > 0 && !['Dropout', 'BatchNormalization', 'MaxPool'].includes(op)) {
      throw new UnsupportedError(`${where}: only single-output nodes are supported`);
    }
    if (usedOuts.length > 0)
      throw new UnsupportedError(`${where}: secondary output '${usedOuts[0]}' (training mask, running stats or indices) is not supported`);

    const c = (k: number): ConstTensor | undefined => (ins[k] ? consts.get(ins[k]) : undefined);
    const needConst = (k: number, role: string): ConstTensor => {
      const t = c(k);
      if (!t) throw new UnsupportedError(`${where}: ${role} must be a constant (initializer), not a computed tensor`);
      return t;
    };
    const emit = (o: PreOp, inputs: string[] = [ins[0]]): void => {
      const pn: PreNode = { name, op: o, inputs, output: outs[0] };
      const inShapes = inputs.map((i) => shapes[i]);
      const shape = o.kind === 'affine' ? [...inShapes[0]] : inferShape(pn as Node, inShapes);
      const outWhat = `${where}: its per-sample output ${fmtShape(shape)}`;
      budget.take(shapeElements(shape, outWhat), ACT_BYTES, outWhat);
      if (shape.some((d) => d === 0)) throw new FxpqError(`${where}: its per-sample output ${fmtShape(shape)} has a zero-size dimension`);
      if (o.kind !== 'affine') opCheckWork(o, inShapes, shape, where);
      shapes[outs[0]] = shape;
      pre.push(pn);
    };
    const xShape = shapes[ins[0]] ?? [];
    const affine = (kind: 'Add' | 'Mul'): void => {
      const kIdx = consts.has(ins[0]) ? 0 : 1;
      const k = consts.get(ins[kIdx])!;
      const xName = ins[1 - kIdx];
      const vec = perChannel(k, shapes[xName], where);
      const ch = vec.length;
      emit(
        kind === 'Add'
          ? { kind: 'affine', scale: new Float64Array(ch).fill(1), shift: vec, origin: where }
          : { kind: 'affine', scale: vec, shift: new Float64Array(ch), origin: where },
        [xName],
      );
    };
    const ctx: ImportContext = {
      name,
      where,
      opType: op,
      opset,
      at,
      ins,
      outs,
      dynamic,
      xShape,
      budget,
      shape: (n) => shapes[n],
      c,
      needConst,
      emit,
      affine,
      alias: (input) => {
        alias.set(outs[0], input);
      },
    };
    const handler: OnnxHandler | undefined = HANDLERS.get(op);
    if (handler) {
      handler(ctx);
      continue;
    }

    switch (op) {
      case 'Identity':
      case 'Dropout':
        alias.set(outs[0], ins[0]);
        break;
      case 'Mul':
        if (dynamic.length === 2) throw new UnsupportedError(`${where}: Mul of two computed tensors is not supported`);
        affine('Mul');
        break;
      case 'BatchNormalization': {
        if (at.int('training_mode', 0) === 1)
          throw new UnsupportedError(`${where}: training_mode=1 is not supported; export the model in eval mode`);
        const [g, beta, mean, v] = [1, 2, 3, 4].map((k) => needConst(k, 'scale, B, mean and var'));
        const eps = at.float('epsilon', 1e-5);
        const ch = g.data.length;
        if (ch !== xShape[0] || [beta, mean, v].some((t) => t.data.length !== ch)) {
          throw new FxpqError(`${where}: scale, B, mean and var must each hold one value per channel (${xShape[0]})`);
        }
        budget.take(2 * ch, 8, `${where}: its folded scale and shift`);
        // BN is defined in float32 by ONNX; compute the folded scale in float64 for a tight match.
        const scale = new Float64Array(ch),
          shift = new Float64Array(ch);
        for (let i = 0; i < ch; i++) {
          scale[i] = g.data[i] / Math.sqrt(v.data[i] + Math.fround(eps));
          shift[i] = beta.data[i] - mean.data[i] * scale[i];
        }
        emit({ kind: 'affine', scale, shift, origin: where });
        break;
      }
      default:
        throw new UnsupportedError(`unsupported op '${op}' in node '${name}'; supported ops: ${SUPPORTED_OPS.join(', ')}`);
    }
  }

  const outName = resolve(graph.output![0].name ?? '');
  if (consts.has(outName)) throw new UnsupportedError(`${file}: the graph output is a constant`);
  if (!shapes[outName]) throw new FxpqError(`${file}: the graph output '${outName}' is not produced by any node`);
  const nodes = mergePads(foldAffines(pre, outName));
  const softmaxAt = nodes.findIndex((n) => n.op.kind === 'softmax');
  if (softmaxAt >= 0 && nodes[softmaxAt].output !== outName) {
    throw new UnsupportedError(`node '${nodes[softmaxAt].name}' (Softmax): Softmax is only supported as the last node`);
  }
  const live = liveNodes(nodes, outName);
  if (live.length === 0) throw new UnsupportedError(`${file}: the graph has no layers (its output '${shortName(outName)}' is its input)`);
  const liveShapes = dict<number[]>([[inputName, inputShape]]);
  for (const n of live) liveShapes[n.output] = shapes[n.output];
  return {
    input: { name: inputName, shape: inputShape },
    output: outName,
    nodes: live,
    shapes: liveShapes,
    source: {
      opset,
      producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(),
      sha256: createHash('sha256').update(buf).digest('hex'),
    },
  };
}

function readOpset(imports: { domain?: string | null; version?: number | { toNumber(): number } | null }[], file: string): number {
  const main = imports.find((o) => !o.domain || o.domain === 'ai.onnx');
  const v = main ? toNum(main.version) : 0;
  if (v < MIN_OPSET || v > MAX_OPSET) {
    throw new UnsupportedError(
      `${file}: opset ${v} is not supported (supported: ${MIN_OPSET} to ${MAX_OPSET}); re-export with opset_version between them`,
    );
  }
  return v;
}

function readInputShape(
  vi: {
    name?: string | null;
    type?: {
      tensorType?: {
        shape?: { dim?: { dimValue?: number | { toNumber(): number } | null; dimParam?: string | null }[] | null } | null;
        elemType?: number | null;
      } | null;
    } | null;
  },
  file: string,
): number[] {
  const dims = vi.type?.tensorType?.shape?.dim;
  if (!dims || dims.length < 2)
    throw new UnsupportedError(`${file}: input '${vi.name}' must have a known rank of at least 2 (batch first)`);
  const elem = vi.type?.tensorType?.elemType;
  if (elem !== 1) throw new UnsupportedError(`${file}: input '${vi.name}' must be float32 (element type ${elem})`);
  return dims.slice(1).map((d, i) => {
    const v = toNum(d.dimValue);
    if (!(v > 0))
      throw new UnsupportedError(
        `${file}: input '${vi.name}' dimension ${i + 1} is symbolic ('${d.dimParam ?? ''}'); only the batch dimension may be symbolic`,
      );
    return v;
  });
}

function checkFinite(t: ConstTensor, what: string, file: string): void {
  for (let i = 0; i < t.data.length; i++) {
    if (!Number.isFinite(t.data[i])) {
      throw new FxpqError(`${file}: ${what} holds ${t.data[i]} at flat index ${i}; constants (weights, biases, parameters) must be finite`);
    }
  }
}

function isConsumed(graph: { node?: NodeProto[] | null; output?: { name?: string | null }[] | null }, name: string): boolean {
  return (graph.node ?? []).some((n) => (n.input ?? []).includes(name)) || (graph.output ?? []).some((o) => o.name === name);
}

/** Kahn's algorithm, keeping file order among ready nodes: exporters usually emit sorted graphs already. */
function topoSort(nodes: NodeProto[], consts: Map<string, ConstTensor>, input: string, file: string): NodeProto[] {
  const available = new Set<string>([input, ...consts.keys(), '']);
  const pending = [...nodes];
  const out: NodeProto[] = [];
  while (pending.length > 0) {
    const i = pending.findIndex((n) => (n.input ?? []).every((x) => available.has(x)));
    if (i < 0) {
      const n = pending[0];
      const missing = (n.input ?? []).find((x) => !available.has(x));
      throw new FxpqError(
        `${file}: node '${n.name || n.output?.[0]}' (${n.opType}) reads '${missing}', which no node produces (or the graph has a cycle)`,
      );
    }
    const [n] = pending.splice(i, 1);
    for (const o of n.output ?? []) available.add(o);
    out.push(n);
  }
  return out;
}

/** Bytes per element charged for an activation of one sample (float64 buffers). */
const ACT_BYTES = 8;

/** Reads a constant operand of Add/Mul as one value per channel (feature maps) or per feature (vectors). */
function perChannel(k: ConstTensor, xShape: number[], where: string): Float64Array {
  const ch = xShape[0];
  const n = size(k.dims);
  // Trailing dims after the channel must be 1, and leading dims (batch) must be 1.
  const chAxisFromEnd = xShape.length; // position of the channel counted from the end
  const r = k.dims.length;
  const ok = n === 1 || (r >= chAxisFromEnd && k.dims[r - chAxisFromEnd] === ch && n === ch);
  if (!ok)
    throw new UnsupportedError(
      `${where}: a constant operand of shape [${k.dims}] is only supported as one value per channel of a [${xShape}] tensor`,
    );
  return n === 1 ? new Float64Array(ch).fill(k.data[0]) : k.data.slice();
}

/** Folds each affine (BN, bias Add, scale Mul) into the Conv/Dense that produces its input. */
function foldAffines(pre: PreNode[], outName: string): Node[] {
  const consumers = new Map<string, number>();
  for (const n of pre) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const out: Node[] = [];
  const producer = new Map<string, Node>();
  const rename = new Map<string, string>();
  for (const n of pre) {
    const inputs = n.inputs.map((i) => rename.get(i) ?? i);
    if (n.op.kind === 'affine') {
      const p = producer.get(inputs[0]);
      const sole = (consumers.get(n.inputs[0]) ?? 0) === 1 && n.inputs[0] !== outName;
      if (!p || !sole || (p.op.kind !== 'conv' && p.op.kind !== 'dense')) {
        throw new UnsupportedError(
          `${n.op.origin}: must directly follow a Conv, Gemm or MatMul whose output it alone consumes, so it can be folded into its weights and bias`,
        );
      }
      const { weight, bias } = p.op;
      const per = weight.data.length / bias.length;
      for (let o = 0; o < bias.length; o++) {
        for (let j = 0; j < per; j++) weight.data[o * per + j] *= n.op.scale[o];
        bias[o] = bias[o] * n.op.scale[o] + n.op.shift[o];
      }
      rename.set(n.output, p.output);
      continue;
    }
    const node: Node = { name: n.name, op: n.op, inputs, output: n.output };
    out.push(node);
    producer.set(n.output, node);
  }
  // An affine that folds into the graph output renames it: keep the ONNX output name visible.
  const last = rename.get(outName);
  if (last) {
    const p = out.find((n) => n.output === last)!;
    for (const n of out) n.inputs = n.inputs.map((i) => (i === last ? outName : i));
    p.output = outName;
  }
  return out;
}

/** Merges a zero Pad into the Conv (or count_include_pad AveragePool) that alone consumes it. */
function mergePads(nodes: Node[]): Node[] {
  const consumers = (name: string) => nodes.filter((n) => n.inputs.includes(name));
  const drop = new Set<Node>();
  for (const n of nodes) {
    if (n.op.kind !== 'pad') continue;
    const cs = consumers(n.output);
    if (cs.length !== 1) continue;
    const c = cs[0];
    if (c.op.kind === 'conv' || (c.op.kind === 'avgpool' && c.op.countIncludePad)) {
      c.op.pads = c.op.pads.map((v, i) => v + (n.op as { pads: number[] }).pads[i]) as [number, number, number, number];
      c.inputs = c.inputs.map((i) => (i === n.output ? n.inputs[0] : i));
      drop.add(n);
    }
  }
  return nodes.filter((n) => !drop.has(n));
}

function liveNodes(nodes: Node[], outName: string): Node[] {
  const need = new Set<string>([outName]);
  const keep: Node[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (need.has(nodes[i].output)) {
      keep.push(nodes[i]);
      nodes[i].inputs.forEach((x) => need.add(x));
    }
  }
  return keep.reverse();
}
