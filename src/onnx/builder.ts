/**
 * Builds ONNX models in memory (tests, benchmarks, synthetic networks): the same protobuf schema
 * PyTorch's exporter writes, so the importer and onnxruntime-node both read exactly these bytes.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface TensorSpec {
  name: string;
  dims: number[];
  values: number[] | Float32Array;
  /** 'float' (default), 'int64'. */
  type?: 'float' | 'int64';
  /** Store in raw_data (default) or the typed field. */
  raw?: boolean;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, number | number[] | string | { float: number } | { floats: number[] } | { tensor: TensorSpec }>;
  domain?: string;
}

export interface ModelSpec {
  inputShape: (number | string)[];
  outputShape?: (number | string)[];
  nodes: NodeSpec[];
  inits?: TensorSpec[];
  opset?: number;
  input?: string;
  output?: string;
}

export function tensorProto(t: TensorSpec): onnxProto.onnx.TensorProto {
  const type = t.type ?? 'float';
  const raw = t.raw ?? true;
  const p = onnx.TensorProto.create({ name: t.name, dims: t.dims, dataType: type === 'float' ? 1 : 7 });
  if (raw) {
    const buf =
      type === 'float'
        ? new Uint8Array(Float32Array.from(t.values).buffer)
        : new Uint8Array(BigInt64Array.from(Array.from(t.values, (v) => BigInt(v))).buffer);
    p.rawData = buf;
  } else if (type === 'float') {
    p.floatData = Array.from(t.values);
  } else {
    p.int64Data = Array.from(t.values);
  }
  return p;
}

function attr(name: string, v: NonNullable<NodeSpec['attrs']>[string]): onnxProto.onnx.AttributeProto {
  const A = onnx.AttributeProto;
  if (typeof v === 'number') return A.create({ name, type: A.AttributeType.INT, i: v });
  if (typeof v === 'string') return A.create({ name, type: A.AttributeType.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return A.create({ name, type: A.AttributeType.INTS, ints: v });
  if ('float' in v) return A.create({ name, type: A.AttributeType.FLOAT, f: v.float });
  if ('floats' in v) return A.create({ name, type: A.AttributeType.FLOATS, floats: v.floats });
  return A.create({ name, type: A.AttributeType.TENSOR, t: tensorProto(v.tensor) });
}

function valueInfo(name: string, shape: (number | string)[] | undefined): onnxProto.onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: 1,
        shape: shape ? { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined,
      },
    },
  });
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const input = spec.input ?? 'x';
  const output = spec.output ?? spec.nodes[spec.nodes.length - 1].outputs[0];
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'fxpq-test',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'g',
      node: spec.nodes.map((n, i) =>
        onnx.NodeProto.create({
          name: n.name ?? `${n.op.toLowerCase()}_${i}`,
          opType: n.op,
          domain: n.domain ?? '',
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v)),
        }),
      ),
      initializer: (spec.inits ?? []).map(tensorProto),
      input: [valueInfo(input, spec.inputShape)],
      output: [valueInfo(output, spec.outputShape)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Deterministic pseudo-random numbers (mulberry32) so fixtures are stable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(r: () => number, n: number, scale = 1): number[] {
  return Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}
