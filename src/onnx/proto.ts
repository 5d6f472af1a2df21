import onnxProto from 'onnx-proto';
import { FxpqError, UnsupportedError } from '../errors.js';
import { type Budget, checkAlloc, fmtShape, shapeElements } from '../util/limits.js';

const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export { onnx };

/** A constant tensor lifted out of protobuf. Values are float64: exact for every dtype we accept. */
export interface ConstTensor {
  dims: number[];
  data: Float64Array;
  /** ONNX element type name, for error messages and for shape tensors. */
  dtype: string;
}

type Long = { toNumber(): number };
export const toNum = (v: number | Long | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();

const DTYPE: Record<number, { name: string; bytes: number; read: (v: DataView, o: number) => number }> = {
  1: { name: 'float32', bytes: 4, read: (v, o) => v.getFloat32(o, true) },
  2: { name: 'uint8', bytes: 1, read: (v, o) => v.getUint8(o) },
  3: { name: 'int8', bytes: 1, read: (v, o) => v.getInt8(o) },
  4: { name: 'uint16', bytes: 2, read: (v, o) => v.getUint16(o, true) },
  5: { name: 'int16', bytes: 2, read: (v, o) => v.getInt16(o, true) },
  6: { name: 'int32', bytes: 4, read: (v, o) => v.getInt32(o, true) },
  7: { name: 'int64', bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  9: { name: 'bool', bytes: 1, read: (v, o) => v.getUint8(o) },
  11: { name: 'float64', bytes: 8, read: (v, o) => v.getFloat64(o, true) },
  12: { name: 'uint32', bytes: 4, read: (v, o) => v.getUint32(o, true) },
};

/** Decodes an ONNX file; any protobuf failure becomes one clear line. */
export function decodeModel(buf: Uint8Array, file: string): ModelProto {
  if (buf.length === 0) throw new FxpqError(`${file}: file is empty, not an ONNX model`);
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(buf);
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    throw new FxpqError(`${file}: not a valid ONNX model (protobuf decoding failed: ${why}); the file may be truncated`);
  }
  if (!model.graph || !model.graph.node || model.graph.node.length === 0) {
    throw new FxpqError(`${file}: not a valid ONNX model (no graph or no nodes)`);
  }
  return model;
}

/**
 * Converts an initializer or Constant value to float64, from raw_data or the typed fields. The
 * declared dims are untrusted: their element count must match the data actually stored, and the
 * float64 copy must fit the memory limit, both checked before anything is allocated.
 */
export function tensorValues(t: TensorProto, what: string, budget?: Budget): ConstTensor {
  const dims = (t.dims ?? []).map(toNum);
  const dt = DTYPE[t.dataType ?? 0];
  if (!dt)
    throw new UnsupportedError(`${what}: tensor element type ${t.dataType} is not supported (float32, float64, int8..int64, uint8, bool)`);
  if (t.dataLocation === 1)
    throw new UnsupportedError(`${what}: external tensor data is not supported; save the model with all tensors inside the file`);
  const count = shapeElements(dims, what);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const typed: ArrayLike<number | Long> | null | undefined = raw
    ? null
    : dt.name === 'float32'
      ? t.floatData
      : dt.name === 'float64'
        ? t.doubleData
        : dt.name === 'int64'
          ? t.int64Data
          : dt.name === 'uint32'
            ? t.uint64Data
            : t.int32Data; // int8..int32, uint8, uint16, bool all live in int32_data
  if (raw) {
    if (raw.length !== count * dt.bytes) {
      throw new FxpqError(`${what}: raw_data holds ${raw.length} bytes, expected ${count * dt.bytes} for dims ${fmtShape(dims)}`);
    }
  } else {
    const n = typed?.length ?? 0;
    if (n !== count) throw new FxpqError(`${what}: holds ${n} values, expected ${count} for dims ${fmtShape(dims)}`);
  }
  if (budget) budget.take(count, 8, what);
  else checkAlloc(count, 8, what);
  const data = new Float64Array(count);
  if (raw) {
    // Copy into an aligned buffer before viewing it.
    const copy = raw.slice();
    const view = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
    for (let i = 0; i < count; i++) data[i] = dt.read(view, i * dt.bytes);
  } else {
    for (let i = 0; i < count; i++) data[i] = toNum(typed![i]);
  }
  return { dims, data, dtype: dt.name };
}

/** Typed access to a node's attributes with defaults. */
export class Attrs {
  private readonly map = new Map<string, AttributeProto>();
  constructor(private readonly node: NodeProto) {
    for (const a of node.attribute ?? []) this.map.set(a.name ?? '', a);
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  int(name: string, dflt: number): number {
    const a = this.map.get(name);
    return a ? toNum(a.i) : dflt;
  }
  float(name: string, dflt: number): number {
    const a = this.map.get(name);
    return a ? (a.f ?? 0) : dflt;
  }
  ints(name: string, dflt: number[] | undefined): number[] | undefined {
    const a = this.map.get(name);
    return a ? (a.ints ?? []).map(toNum) : dflt;
  }
  str(name: string, dflt: string): string {
    const a = this.map.get(name);
    return a && a.s ? new TextDecoder().decode(a.s) : dflt;
  }
  tensor(name: string): TensorProto | undefined {
    return this.map.get(name)?.t ?? undefined;
  }
  names(): string[] {
    return [...this.map.keys()];
  }
  get nodeName(): string {
    return this.node.name || this.node.output?.[0] || '?';
  }
}
