import type { Scratch } from '../engine/kernels.js';
import type { Op, OpKind, OpTypes } from '../ir/types.js';
import type { OnnxHandler } from '../onnx/import-kit.js';
import type { OpModule } from './op-module.js';
import { add } from './add/index.js';
import { avgpool } from './avgpool/index.js';
import { clip } from './clip/index.js';
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
  conv, dense, relu, clip, maxpool, avgpool, gap, add, flatten, pad, softmax,
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
  new Map(Object.values(OPS).flatMap((m: OpModule<OpKind>) => Object.entries(m.onnx ?? {})));

/** An op's check of the work one sample costs (see OpModule.checkWork). */
export const opCheckWork = (op: Op, inShapes: number[][], outShape: number[], where: string): void =>
  opModule(op).checkWork?.(op as never, inShapes, outShape, where);
