import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FxpqError, UnsupportedError } from '../errors.js';
import { inferShape } from '../ir/shapes.js';
import type { Graph, Node, Op, PoolGeometry } from '../ir/types.js';
import { size } from '../ir/types.js';
import { dict } from '../util/dict.js';
import { Budget, checkAlloc, checkConvWork, fmtShape, shapeElements, shortName } from '../util/limits.js';
import { BATCH_SENTINEL, evalConstNode } from './constfold.js';
import { Attrs, type ConstTensor, decodeModel, type NodeProto, tensorValues, toNum } from './proto.js';

export const SUPPORTED_OPS = [
  'Conv', 'Gemm', 'MatMul', 'Add', 'Mul', 'Relu', 'Clip', 'MaxPool', 'AveragePool', 'GlobalAveragePool',
  'BatchNormalization', 'Flatten', 'Reshape', 'Identity', 'Dropout', 'Softmax', 'Constant', 'Pad',
] as const;
export const MIN_OPSET = 11;
export const MAX_OPSET = 21;

/** A per-channel y = x * scale + shift that must be folded into the Conv/Dense before it (BN, bias Add, Mul). */
interface AffineOp { kind: 'affine'; scale: Float64Array; shift: Float64Array; origin: string }
type PreOp = Op | AffineOp;
interface PreNode { name: string; op: PreOp; inputs: string[]; output: string }

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
    throw new UnsupportedError(`${file}: the graph must have exactly one non-constant input, found ${realInputs.length} (${realInputs.map((i) => i.name).join(', ')})`);
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
  const resolve = (n: string): string => { let r = n; while (alias.has(r)) r = alias.get(r)!; return r; };
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
      const vals = evalConstNode(node, ins.map((i) => (i === '' ? undefined : consts.get(i))), opset, budget, shortName(name));
      vals.forEach((v, k) => { if (outs[k]) putConst(outs[k], v, `${where}: folded constant '${shortName(outs[k])}'`); });
      continue;
    }
    for (const d of dynamic) {
      if (!shapes[d]) throw new FxpqError(`${where}: input '${d}' is not produced by any earlier node`);
    }
    const usedOuts = outs.slice(1).filter((o) => o !== '' && isConsumed(graph, o));
    if (usedOuts.length > 0 && !['Dropout', 'BatchNormalization', 'MaxPool'].includes(op)) {
      throw new UnsupportedError(`${where}: only single-output nodes are supported`);
    }
    if (usedOuts.length > 0) throw new UnsupportedError(`${where}: secondary output '${usedOuts[0]}' (training mask, running stats or indices) is not supported`);

    const c = (k: number): ConstTensor | undefined => (ins[k] ? consts.get(ins[k]) : undefined);
    const needConst = (k: number, role: string): ConstTensor => {
      const t = c(k);
      if (!t) throw new UnsupportedError(`${where}: ${role} must be a constant (initializer), not a computed tensor`);
      return t;
    };
    const emit = (o: PreOp, inputs: string[] = [ins[0]]): void => {
      const pn: PreNode = { name, op: o, inputs, output: outs[0] };
      const shape = o.kind === 'affine' ? [...shapes[inputs[0]]] : inferShape(pn as Node, inputs.map((i) => shapes[i]));
      const outWhat = `${where}: its per-sample output ${fmtShape(shape)}`;
      budget.take(shapeElements(shape, outWhat), ACT_BYTES, outWhat);
      if (shape.some((d) => d === 0)) throw new FxpqError(`${where}: its per-sample output ${fmtShape(shape)} has a zero-size dimension`);
      if (o.kind === 'conv') {
        const [cout, cinG, kh, kw] = o.weight.shape;
        checkConvWork({ cout, cinG, kh, kw, inElements: size(shapes[inputs[0]]), outPixels: shape[1] * shape[2] }, where);
      } else if (o.kind === 'maxpool' || o.kind === 'avgpool') {
        // Work per sample (and the simulator's window table) grows with outputs x window taps.
        const [kh, kw] = o.kernel;
        checkAlloc(shape[1] * shape[2] * kh * kw, 4, `${where}: its ${shape[1]}x${shape[2]} outputs of ${kh}x${kw} taps`);
      }
      shapes[outs[0]] = shape;
      pre.push(pn);
    };
    const xShape = shapes[ins[0]] ?? [];

    switch (op) {
      case 'Identity': case 'Dropout':
        alias.set(outs[0], ins[0]);
        break;
      case 'Conv': {
        if (!shapes[ins[0]]) throw new UnsupportedError(`${where}: the data input must be the dynamic tensor`);
        const w = needConst(1, 'the weight');
        if (w.dims.length !== 4) throw new UnsupportedError(`${where}: only 2-D convolutions (4-D weights) are supported, weight is [${w.dims}]`);
        nonEmpty(w.dims, 'the weight', where);
        const b = c(2);
        if (ins[2] && !b) throw new UnsupportedError(`${where}: the bias must be a constant`);
        if (b && b.data.length !== w.dims[0]) throw new FxpqError(`${where}: the bias of shape ${fmtShape(b.dims)} must hold one value per output channel (${w.dims[0]})`);
        budget.take(w.dims[0], 8, `${where}: its bias`);
        const k: [number, number] = [w.dims[2], w.dims[3]];
        const strides = positive(pair(at.ints('strides', [1, 1])!), 'strides', where);
        const dil = positive(pair(at.ints('dilations', [1, 1])!), 'dilations', where);
        const pads = resolvePads(at, xShape, k, strides, dil, where);
        if (!pads.every((v) => Number.isInteger(v) && v >= 0)) throw new FxpqError(`${where}: pads [${pads}] must be non-negative integers`);
        emit({
          kind: 'conv', weight: { shape: w.dims, data: w.data }, bias: b ? b.data.slice() : new Float64Array(w.dims[0]),
          strides, pads, dilations: dil, group: at.int('group', 1),
        });
        break;
      }
      case 'Gemm': {
        if (at.int('transA', 0) !== 0) throw new UnsupportedError(`${where}: transA=1 is not supported (the batch is the first dimension of A)`);
        const b = needConst(1, 'B (the weight)');
        if (b.dims.length !== 2) throw new UnsupportedError(`${where}: B (the weight) must be 2-D, got ${fmtShape(b.dims)}`);
        const alpha = at.float('alpha', 1);
        const beta = at.float('beta', 1);
        const transB = at.int('transB', 0) === 1;
        const [r, cc] = b.dims;
        const [out, inp] = transB ? [r, cc] : [cc, r];
        nonEmpty(b.dims, 'B (the weight)', where);
        budget.take(out * inp + out, 8, `${where}: its weight ${fmtShape([out, inp])} and bias`);
        const w = new Float64Array(out * inp);
        for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) w[o * inp + i] = alpha * (transB ? b.data[o * inp + i] : b.data[i * out + o]);
        const bias = new Float64Array(out);
        const cT = c(2);
        if (ins[2] && !cT) throw new UnsupportedError(`${where}: C (the bias) must be a constant`);
        if (cT) {
          if (size(cT.dims) !== 1 && size(cT.dims) !== out) throw new UnsupportedError(`${where}: bias C of shape [${cT.dims}] must broadcast per output feature`);
          for (let o = 0; o < out; o++) bias[o] = beta * (size(cT.dims) === 1 ? cT.data[0] : cT.data[o]);
        }
        emit({ kind: 'dense', weight: { shape: [out, inp], data: w }, bias });
        break;
      }
      case 'MatMul': {
        const b = needConst(1, 'the second operand (the weight)');
        if (b.dims.length !== 2 || xShape.length !== 1) throw new UnsupportedError(`${where}: only [batch, K] x [K, M] with a constant right operand is supported`);
        const [inp, out] = b.dims;
        nonEmpty(b.dims, 'the weight', where);
        budget.take(out * inp + out, 8, `${where}: its weight ${fmtShape([out, inp])} and bias`);
        const w = new Float64Array(out * inp);
        for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) w[o * inp + i] = b.data[i * out + o];
        emit({ kind: 'dense', weight: { shape: [out, inp], data: w }, bias: new Float64Array(out) });
        break;
      }
      case 'Add': case 'Mul': {
        if (dynamic.length === 2) {
          if (op === 'Mul') throw new UnsupportedError(`${where}: Mul of two computed tensors is not supported`);
          emit({ kind: 'add' }, [ins[0], ins[1]]);
          break;
        }
        const kIdx = consts.has(ins[0]) ? 0 : 1;
        const k = consts.get(ins[kIdx])!;
        const xName = ins[1 - kIdx];
        const vec = perChannel(k, shapes[xName], where);
        const ch = vec.length;
        emit(op === 'Add'
          ? { kind: 'affine', scale: new Float64Array(ch).fill(1), shift: vec, origin: where }
          : { kind: 'affine', scale: vec, shift: new Float64Array(ch), origin: where }, [xName]);
        break;
      }
      case 'BatchNormalization': {
        if (at.int('training_mode', 0) === 1) throw new UnsupportedError(`${where}: training_mode=1 is not supported; export the model in eval mode`);
        const [g, beta, mean, v] = [1, 2, 3, 4].map((k) => needConst(k, 'scale, B, mean and var'));
        const eps = at.float('epsilon', 1e-5);
        const ch = g.data.length;
        if (ch !== xShape[0] || [beta, mean, v].some((t) => t.data.length !== ch)) {
          throw new FxpqError(`${where}: scale, B, mean and var must each hold one value per channel (${xShape[0]})`);
        }
        budget.take(2 * ch, 8, `${where}: its folded scale and shift`);
        // BN is defined in float32 by ONNX; compute the folded scale in float64 for a tight match.
        const scale = new Float64Array(ch), shift = new Float64Array(ch);
        for (let i = 0; i < ch; i++) {
          scale[i] = g.data[i] / Math.sqrt(v.data[i] + Math.fround(eps));
          shift[i] = beta.data[i] - mean.data[i] * scale[i];
        }
        emit({ kind: 'affine', scale, shift, origin: where });
        break;
      }
      case 'Relu':
        emit({ kind: 'relu' });
        break;
      case 'Clip': {
        let lo = -Infinity, hi = Infinity;
        if (opset < 11) { lo = at.float('min', -Infinity); hi = at.float('max', Infinity); } else {
          const scalar = (k: number, role: string): number => {
            const t = needConst(k, role);
            if (t.data.length !== 1) throw new FxpqError(`${where}: ${role} must be one value, got shape ${fmtShape(t.dims)}`);
            return t.data[0];
          };
          if (ins[1]) lo = scalar(1, 'min');
          if (ins[2]) hi = scalar(2, 'max');
        }
        emit(lo === 0 && hi === Infinity ? { kind: 'relu' } : { kind: 'clip', min: lo, max: hi });
        break;
      }
      case 'MaxPool': case 'AveragePool': {
        const geo = poolGeometry(at, xShape, where);
        emit(op === 'MaxPool' ? { kind: 'maxpool', ...geo } : { kind: 'avgpool', ...geo, countIncludePad: at.int('count_include_pad', 0) === 1 });
        break;
      }
      case 'GlobalAveragePool':
        emit({ kind: 'gap' });
        break;
      case 'Flatten': {
        const axis = at.int('axis', 1);
        if (axis !== 1 && !(axis === -xShape.length && xShape.length === 1)) {
          throw new UnsupportedError(`${where}: only Flatten with axis=1 (keep the batch) is supported, got axis=${axis}`);
        }
        if (xShape.length === 1) alias.set(outs[0], ins[0]); else emit({ kind: 'flatten' });
        break;
      }
      case 'Reshape': {
        const spec = Array.from(needConst(1, 'the target shape').data);
        const feats = size(xShape);
        const batchOk = (v: number) => v === 0 || v === -1 || v === BATCH_SENTINEL;
        const ok = spec.length === 2 && batchOk(spec[0]) && (spec[1] === feats || spec[1] === -1) && !(spec[0] === -1 && spec[1] === -1);
        if (!ok) {
          const shown = spec.map((v) => (v === BATCH_SENTINEL ? 'N' : String(v))).join(', ');
          throw new UnsupportedError(`${where}: only Reshape to [batch, ${feats}] is supported, got [${shown}]`);
        }
        if (xShape.length === 1) alias.set(outs[0], ins[0]); else emit({ kind: 'flatten' });
        break;
      }
      case 'Softmax': {
        const axis = at.int('axis', opset >= 13 ? -1 : 1);
        if (xShape.length !== 1 || (axis !== 1 && axis !== -1)) throw new UnsupportedError(`${where}: only Softmax over the features of a [batch, classes] tensor is supported`);
        emit({ kind: 'softmax' });
        break;
      }
      case 'Pad': {
        const mode = at.str('mode', 'constant');
        if (mode !== 'constant') throw new UnsupportedError(`${where}: only constant (zero) padding is supported, got mode '${mode}'`);
        const pads = opset >= 11 ? Array.from(needConst(1, 'pads').data) : at.ints('pads', [])!;
        const value = opset >= 11 ? (ins[2] ? needConst(2, 'constant_value').data[0] : 0) : at.float('value', 0);
        if (value !== 0) throw new UnsupportedError(`${where}: only zero padding is supported, got value ${value}`);
        if (ins[3]) throw new UnsupportedError(`${where}: the axes input of Pad is not supported`);
        const r = xShape.length + 1;
        if (r !== 4 || pads.length !== 8 || pads[0] || pads[1] || pads[4] || pads[5] || pads.some((p) => p < 0)) {
          throw new UnsupportedError(`${where}: only non-negative spatial padding of an NCHW tensor is supported`);
        }
        emit({ kind: 'pad', pads: [pads[2], pads[3], pads[6], pads[7]] });
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
    source: { opset, producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(), sha256: createHash('sha256').update(buf).digest('hex') },
  };
}

function readOpset(imports: { domain?: string | null; version?: number | { toNumber(): number } | null }[], file: string): number {
  const main = imports.find((o) => !o.domain || o.domain === 'ai.onnx');
  const v = main ? toNum(main.version) : 0;
  if (v < MIN_OPSET || v > MAX_OPSET) {
    throw new UnsupportedError(`${file}: opset ${v} is not supported (supported: ${MIN_OPSET} to ${MAX_OPSET}); re-export with opset_version between them`);
  }
  return v;
}

function readInputShape(vi: { name?: string | null; type?: { tensorType?: { shape?: { dim?: { dimValue?: number | { toNumber(): number } | null; dimParam?: string | null }[] | null } | null; elemType?: number | null } | null } | null }, file: string): number[] {
  const dims = vi.type?.tensorType?.shape?.dim;
  if (!dims || dims.length < 2) throw new UnsupportedError(`${file}: input '${vi.name}' must have a known rank of at least 2 (batch first)`);
  const elem = vi.type?.tensorType?.elemType;
  if (elem !== 1) throw new UnsupportedError(`${file}: input '${vi.name}' must be float32 (element type ${elem})`);
  return dims.slice(1).map((d, i) => {
    const v = toNum(d.dimValue);
    if (!(v > 0)) throw new UnsupportedError(`${file}: input '${vi.name}' dimension ${i + 1} is symbolic ('${d.dimParam ?? ''}'); only the batch dimension may be symbolic`);
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
      throw new FxpqError(`${file}: node '${n.name || n.output?.[0]}' (${n.opType}) reads '${missing}', which no node produces (or the graph has a cycle)`);
    }
    const [n] = pending.splice(i, 1);
    for (const o of n.output ?? []) available.add(o);
    out.push(n);
  }
  return out;
}

/** A weight with a zero-size dimension computes nothing: refused at import. */
function nonEmpty(dims: number[], role: string, where: string): void {
  if (dims.some((d) => d === 0)) throw new FxpqError(`${where}: ${role} of shape ${fmtShape(dims)} has a zero-size dimension`);
}

/** Bytes per element charged for an activation of one sample (float64 buffers). */
const ACT_BYTES = 8;

const positive = (v: [number, number], attr: string, where: string): [number, number] => {
  if (!v.every((d) => Number.isInteger(d) && d >= 1)) throw new UnsupportedError(`${where}: ${attr} [${v}] must be positive integers`);
  return v;
};

const pair = (v: number[]): [number, number] => {
  if (v.length !== 2) throw new UnsupportedError(`only 2-D spatial attributes are supported, got [${v}]`);
  return [v[0], v[1]];
};

function resolvePads(at: Attrs, x: number[], k: [number, number], s: [number, number], d: [number, number], where: string): [number, number, number, number] {
  const autoPad = at.str('auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET') {
    const p = at.ints('pads', [0, 0, 0, 0])!;
    if (p.length !== 4) throw new UnsupportedError(`${where}: pads must have 4 entries for a 2-D window`);
    return [p[0], p[1], p[2], p[3]];
  }
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') throw new UnsupportedError(`${where}: auto_pad '${autoPad}' is not supported`);
  const total = [0, 1].map((i) => Math.max(0, (Math.ceil(x[i + 1] / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - x[i + 1]));
  const small = total.map((t) => Math.floor(t / 2));
  const big = total.map((t, i) => t - small[i]);
  return autoPad === 'SAME_UPPER' ? [small[0], small[1], big[0], big[1]] : [big[0], big[1], small[0], small[1]];
}

function poolGeometry(at: Attrs, x: number[], where: string): PoolGeometry {
  if (at.int('ceil_mode', 0) !== 0) throw new UnsupportedError(`${where}: ceil_mode=1 is not supported; use floor mode (the PyTorch default)`);
  if (at.int('storage_order', 0) !== 0) throw new UnsupportedError(`${where}: storage_order=1 is not supported`);
  const kernel = positive(pair(at.ints('kernel_shape', undefined) ?? []), 'kernel_shape', where);
  const strides = positive(pair(at.ints('strides', [1, 1])!), 'strides', where);
  const dilations = positive(pair(at.ints('dilations', [1, 1])!), 'dilations', where);
  const pads = resolvePads(at, x, kernel, strides, dilations, where);
  if (!pads.every((v) => Number.isInteger(v) && v >= 0)) throw new FxpqError(`${where}: pads [${pads}] must be non-negative integers`);
  // ONNX requires each pad to be smaller than the kernel along its axis (a window of padding only).
  if (pads.some((v, i) => v >= kernel[i % 2])) throw new FxpqError(`${where}: pads [${pads}] must each be smaller than the kernel ${kernel.join('x')}`);
  return { kernel, strides, dilations, pads, ceilMode: false };
}

/** Reads a constant operand of Add/Mul as one value per channel (feature maps) or per feature (vectors). */
function perChannel(k: ConstTensor, xShape: number[], where: string): Float64Array {
  const ch = xShape[0];
  const n = size(k.dims);
  // Trailing dims after the channel must be 1, and leading dims (batch) must be 1.
  const chAxisFromEnd = xShape.length; // position of the channel counted from the end
  const r = k.dims.length;
  const ok = n === 1 || (r >= chAxisFromEnd && k.dims[r - chAxisFromEnd] === ch && n === ch);
  if (!ok) throw new UnsupportedError(`${where}: a constant operand of shape [${k.dims}] is only supported as one value per channel of a [${xShape}] tensor`);
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
        throw new UnsupportedError(`${n.op.origin}: must directly follow a Conv, Gemm or MatMul whose output it alone consumes, so it can be folded into its weights and bias`);
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
    if (need.has(nodes[i].output)) { keep.push(nodes[i]); nodes[i].inputs.forEach((x) => need.add(x)); }
  }
  return keep.reverse();
}
