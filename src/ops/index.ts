import type { Scratch } from '../engine/kernels.js';
import type { FloatAct, Op, OpKind, OpTypes } from '../ir/types.js';
import type { QKind, QOp, QOpTypes } from '../quant/qgraph.js';
import type { OnnxHandler } from '../onnx/import-kit.js';
import type { OpModule, QuantPart } from './op-module.js';
import { add } from './add/index.js';
import { avgpool } from './avgpool/index.js';
import { clip } from './clip/index.js';
import { concat } from './concat/index.js';
import { conv } from './conv/index.js';
import { dense } from './dense/index.js';
import { flatten } from './flatten/index.js';
import { gap } from './gap/index.js';
import { maxpool } from './maxpool/index.js';
import { pad } from './pad/index.js';
import { relu } from './relu/index.js';
import { softmax } from './softmax/index.js';

/**
 * The registry of ops: one line per kind. The mapped type makes the compiler reject a kind of
 * OpTypes (src/ir/types.ts, extended by op folders) without a module, or a module of another kind.
 */
const OPS: { readonly [K in OpKind]: OpModule<K> } = {
  conv,
  dense,
  relu,
  clip,
  maxpool,
  avgpool,
  gap,
  add,
  flatten,
  pad,
  softmax,
  concat,
};

/** The module of an op, typed for it. */
export const opModule = <K extends OpKind>(op: OpTypes[K]): OpModule<K> => OPS[op.kind as K] as OpModule<K>;

/** Per-sample output shape of an op (see OpModule.shape). */
export const opShape = (op: Op, ins: number[][], where: string): number[] => opModule(op).shape(op as never, ins, where);

/** The float64 kernel of an op (see OpModule.float). */
export const opFloat = (op: Op, ins: Float64Array[], batch: number, inShapes: number[][], scratch: Scratch): Float64Array =>
  opModule(op).float(op as never, ins, batch, inShapes, scratch);

/** The exactness bound of an op (see OpModule.exactBound). */
export const opExactBound = (op: Op, ins: number[]): number => opModule(op).exactBound(op as never, ins);

/** The ONNX handlers of every op, by ONNX op type, in registration order. */
export const onnxHandlers = (): Map<string, OnnxHandler> =>
  new Map((Object.values(OPS) as { onnx?: Readonly<Record<string, OnnxHandler>> }[]).flatMap((m) => Object.entries(m.onnx ?? {})));

/** An op's check of the work one sample costs (see OpModule.checkWork). */
export const opCheckWork = (op: Op, inShapes: number[][], outShape: number[], where: string): void =>
  opModule(op).checkWork?.(op as never, inShapes, outShape, where);

/** How an op enters the quantized graph: a layer of its own, a fused activation, or dropped at the end. */
export const opRole = (op: Op): 'layer' | 'activation' | 'final' => OPS[op.kind].role;

/** The quantized part of a layer kind (see OpModule.quant). */
export const quantPart = <K extends QKind>(kind: K): QuantPart<K> => {
  const q = (OPS[kind] as OpModule<OpKind>).quant as QuantPart<K> | undefined;
  if (!q) throw new Error(`op '${kind}' has no quantized form`);
  return q;
};

/** The quantized part of a layer's op, typed for it. */
export const quantOf = <K extends QKind>(op: QOpTypes[K]): QuantPart<K> => quantPart(op.kind as K);

/** Every kind that is a layer of the quantized graph (the .fxp.json kinds), in registration order. */
export const QUANT_KINDS: readonly QKind[] = (Object.keys(OPS) as OpKind[]).filter((k) => OPS[k].role === 'layer') as QKind[];

/** Whether a quantized layer's output keeps its input's format. */
export const isPassThrough = (op: QOp): boolean => quantOf(op).passThrough;

/** An activation op's fused form (relu, clip); an error for any other op. */
export function opFusedAct(op: Op): FloatAct {
  const f = opModule(op).fusedAct;
  if (!f) throw new Error(`op '${op.kind}' has no fused form`);
  return f(op as never);
}

/** Parameters and MACs per image of an op (see OpModule.stats). */
export const opStats = (op: Op, inShapes: number[][], outShape: number[]): { params: number; macs: number } =>
  opModule(op).stats?.(op as never, inShapes, outShape) ?? { params: 0, macs: 0 };
