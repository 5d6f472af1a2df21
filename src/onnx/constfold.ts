import { UnsupportedError, FxpqError } from '../errors.js';
import { type Budget, checkAlloc, fmtShape, shapeElements } from '../util/limits.js';
import { Attrs, type ConstTensor, type NodeProto, tensorValues } from './proto.js';

import { BATCH_SENTINEL } from './import-kit.js';

export { BATCH_SENTINEL };

const sizeOf = (d: number[]) => d.reduce((a, b) => a * b, 1);
const T = (dims: number[], data: Float64Array | number[], dtype = 'float32'): ConstTensor => ({
  dims,
  data: data instanceof Float64Array ? data : Float64Array.from(data),
  dtype,
});

function strides(d: number[]): number[] {
  const s = new Array<number>(d.length);
  let acc = 1;
  for (let i = d.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= d[i];
  }
  return s;
}

/**
 * Element count of a folded output of shape `dims`, checked (and charged to the import's budget)
 * before it is allocated: the dims come from the file, so one small node can ask for any size.
 */
type Alloc = (dims: number[]) => number;

function broadcast(a: ConstTensor, b: ConstTensor, f: (x: number, y: number) => number, what: string, alloc: Alloc): ConstTensor {
  const r = Math.max(a.dims.length, b.dims.length);
  const ad = [...Array(r - a.dims.length).fill(1), ...a.dims];
  const bd = [...Array(r - b.dims.length).fill(1), ...b.dims];
  const od = ad.map((x, i) => {
    if (x !== bd[i] && x !== 1 && bd[i] !== 1) throw new FxpqError(`${what}: cannot broadcast [${a.dims}] with [${b.dims}]`);
    return Math.max(x, bd[i]);
  });
  const as = strides(ad),
    bs = strides(bd),
    os = strides(od);
  const out = new Float64Array(alloc(od));
  for (let i = 0; i < out.length; i++) {
    let ai = 0,
      bi = 0,
      rem = i;
    for (let k = 0; k < r; k++) {
      const c = Math.floor(rem / os[k]);
      rem -= c * os[k];
      if (ad[k] !== 1) ai += c * as[k];
      if (bd[k] !== 1) bi += c * bs[k];
    }
    out[i] = f(a.data[ai], b.data[bi]);
  }
  return T(od, out, a.dtype);
}

function resolveReshape(inDims: number[], spec: number[], allowZero: boolean, what: string): number[] {
  if (spec.includes(BATCH_SENTINEL))
    throw new UnsupportedError(`${what}: reshaping a constant to a shape that depends on the batch size is not supported`);
  const out = spec.map((v, i) => (v === 0 && !allowZero ? inDims[i] : v));
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    const known = out.filter((_, i) => i !== neg).reduce((a, b) => a * b, 1);
    out[neg] = sizeOf(inDims) / known;
  }
  const n = sizeOf(inDims);
  if (out.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(out) !== n) {
    throw new FxpqError(`${what}: cannot reshape a constant of shape ${fmtShape(inDims)} (${n} elements) to ${fmtShape(spec)}`);
  }
  return out;
}

const FOLDABLE = [
  'Constant',
  'Identity',
  'Cast',
  'Shape',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Neg',
  'Sqrt',
  'Reshape',
  'Flatten',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Gather',
  'Transpose',
  'ConstantOfShape',
];

const normAxis = (a: number, r: number) => (a < 0 ? a + r : a);

/**
 * Evaluates one node whose inputs are all constants. Every output's size is computed from the
 * shapes and checked against `budget` (the running total of one import) before it is allocated.
 */
export function evalConstNode(
  node: NodeProto,
  ins: (ConstTensor | undefined)[],
  opset: number,
  budget?: Budget,
  name?: string,
): ConstTensor[] {
  const at = new Attrs(node);
  const what = `node '${name ?? at.nodeName}' (${node.opType})`;
  const alloc: Alloc = (dims) => {
    const item = `${what}: folded constant of shape ${fmtShape(dims)}`;
    const n = shapeElements(dims, item);
    if (budget) budget.take(n, 8, item);
    else checkAlloc(n, 8, item);
    return n;
  };
  const need = (k: number): ConstTensor => {
    const t = ins[k];
    if (!t) throw new FxpqError(`${what}: input ${k} is missing`);
    return t;
  };
  if (FOLDABLE.includes(node.opType ?? '') && node.opType !== 'Constant') need(0);
  const x = ins[0]!;
  const map = (f: (v: number) => number, dtype = x.dtype): ConstTensor => {
    const out = new Float64Array(alloc(x.dims));
    for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]);
    return T(x.dims, out, dtype);
  };
  const elementwise = (f: (p: number, q: number) => number) => [broadcast(x, need(1), f, what, alloc)];
  switch (node.opType) {
    case 'Constant': {
      const t = at.tensor('value');
      if (t) return [tensorValues(t, what, budget)];
      if (at.has('value_float')) return [T([], [at.float('value_float', 0)])];
      if (at.has('value_int')) return [T([], [at.int('value_int', 0)], 'int64')];
      if (at.has('value_floats')) {
        throw new UnsupportedError(`${what}: value_floats constants are not supported`);
      }
      const ints = at.ints('value_ints', undefined);
      if (ints) return [T([ints.length], ints, 'int64')];
      throw new UnsupportedError(`${what}: Constant without a tensor value is not supported`);
    }
    case 'Identity':
    case 'Dropout':
      return [x];
    case 'Cast': {
      const to = at.int('to', 1);
      const isInt = [2, 3, 4, 5, 6, 7, 12, 13].includes(to);
      return [
        map((v) => (to === 1 ? Math.fround(v) : isInt ? Math.trunc(v) : to === 9 ? (v !== 0 ? 1 : 0) : v), isInt ? 'int64' : 'float32'),
      ];
    }
    case 'Shape':
      return [T([x.dims.length], x.dims, 'int64')];
    case 'Add':
      return elementwise((p, q) => p + q);
    case 'Sub':
      return elementwise((p, q) => p - q);
    case 'Mul':
      return elementwise((p, q) => p * q);
    case 'Div':
      return elementwise((p, q) => (x.dtype === 'float32' || x.dtype === 'float64' ? p / q : Math.trunc(p / q)));
    case 'Neg':
      return [map((v) => -v)];
    case 'Sqrt':
      return [map(Math.sqrt)];
    case 'Reshape': {
      const spec = Array.from(need(1).data);
      return [T(resolveReshape(x.dims, spec, at.int('allowzero', 0) === 1, what), x.data, x.dtype)];
    }
    case 'Flatten': {
      const axis = normAxis(at.int('axis', 1), x.dims.length);
      return [T([sizeOf(x.dims.slice(0, axis)), sizeOf(x.dims.slice(axis))], x.data, x.dtype)];
    }
    case 'Unsqueeze': {
      const axes = opset >= 13 ? Array.from(need(1).data) : at.ints('axes', [])!;
      const r = x.dims.length + axes.length;
      const sorted = axes.map((a) => normAxis(a, r)).sort((a, b) => a - b);
      const dims = [...x.dims];
      for (const a of sorted) dims.splice(a, 0, 1);
      return [T(dims, x.data, x.dtype)];
    }
    case 'Squeeze': {
      const given = opset >= 13 ? (ins[1] ? Array.from(ins[1].data) : undefined) : at.ints('axes', undefined);
      const axes = given?.map((a) => normAxis(a, x.dims.length));
      for (const a of axes ?? []) {
        if (!(Number.isInteger(a) && a >= 0 && a < x.dims.length))
          throw new FxpqError(`${what}: axis ${a} is out of range for rank ${x.dims.length}`);
        if (x.dims[a] !== 1)
          throw new FxpqError(`${what}: cannot squeeze axis ${a} of ${fmtShape(x.dims)}, whose size is ${x.dims[a]}, not 1`);
      }
      return [
        T(
          x.dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)),
          x.data,
          x.dtype,
        ),
      ];
    }
    case 'Concat': {
      const parts = ins.filter((t): t is ConstTensor => t !== undefined);
      const axis = normAxis(at.int('axis', 0), x.dims.length);
      if (!(axis >= 0 && axis < x.dims.length))
        throw new FxpqError(`${what}: axis ${at.int('axis', 0)} is out of range for rank ${x.dims.length}`);
      for (const p of parts) {
        if (p.dims.length !== x.dims.length || p.dims.some((d, i) => i !== axis && d !== x.dims[i])) {
          throw new FxpqError(`${what}: cannot concatenate ${fmtShape(x.dims)} with ${fmtShape(p.dims)} along axis ${axis}`);
        }
      }
      const outer = sizeOf(x.dims.slice(0, axis));
      const dims = [...x.dims];
      dims[axis] = parts.reduce((a, p) => a + p.dims[axis], 0);
      const out = new Float64Array(alloc(dims));
      let k = 0;
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const inner = sizeOf(p.dims.slice(axis));
          for (let i = 0; i < inner; i++) out[k++] = p.data[o * inner + i];
        }
      }
      return [T(dims, out, x.dtype)];
    }
    case 'Gather': {
      const axis = normAxis(at.int('axis', 0), x.dims.length);
      if (!(axis >= 0 && axis < x.dims.length))
        throw new FxpqError(`${what}: axis ${at.int('axis', 0)} is out of range for rank ${x.dims.length}`);
      const idx = need(1);
      const outer = sizeOf(x.dims.slice(0, axis));
      const inner = sizeOf(x.dims.slice(axis + 1));
      const n = x.dims[axis];
      for (const raw of idx.data) {
        if (!Number.isInteger(raw) || raw < -n || raw >= n)
          throw new FxpqError(`${what}: index ${raw} is out of range for a dimension of ${n}`);
      }
      const dims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
      const out = new Float64Array(alloc(dims));
      let k = 0;
      for (let o = 0; o < outer; o++) {
        for (const raw of idx.data) {
          const j = raw < 0 ? raw + n : raw;
          for (let i = 0; i < inner; i++) out[k++] = x.data[(o * n + j) * inner + i];
        }
      }
      return [T(dims, out, x.dtype)];
    }
    case 'Transpose': {
      const r = x.dims.length;
      const perm = at.ints('perm', undefined) ?? [...Array(r).keys()].reverse();
      if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i))
        throw new FxpqError(`${what}: perm [${perm.slice(0, 8).join(', ')}] is not a permutation of the ${r} axes`);
      const dims = perm.map((p) => x.dims[p]);
      const is = strides(x.dims),
        os = strides(dims);
      const out = new Float64Array(alloc(dims));
      for (let i = 0; i < out.length; i++) {
        let rem = i,
          src = 0;
        for (let k = 0; k < r; k++) {
          const c = Math.floor(rem / os[k]);
          rem -= c * os[k];
          src += c * is[perm[k]];
        }
        out[i] = x.data[src];
      }
      return [T(dims, out, x.dtype)];
    }
    case 'ConstantOfShape': {
      const t = at.tensor('value');
      const v = t ? tensorValues(t, what, budget).data[0] : 0;
      const dims = Array.from(x.data);
      if (dims.includes(BATCH_SENTINEL))
        throw new UnsupportedError(`${what}: a constant whose shape depends on the batch size is not supported`);
      return [T(dims, new Float64Array(alloc(dims)).fill(v))];
    }
    default:
      throw new UnsupportedError(`${what}: op '${node.opType}' on constant inputs cannot be folded (foldable: ${FOLDABLE.join(', ')})`);
  }
}
