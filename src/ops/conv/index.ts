import * as K from '../../engine/kernels.js';
import { convOutHW } from '../../ir/geometry.js';
import { needRank, type OpModule } from '../op-module.js';
import { weightedBound } from '../weighted-bound.js';
import { FxpqError, UnsupportedError } from '../../errors.js';
import { nonEmpty, pair, positive, resolvePads } from '../../onnx/import-kit.js';
import { checkConvWork, fmtShape } from '../../util/limits.js';
import { size } from '../../ir/types.js';
import * as I from '../../intref/ops.js';
import { fileAct, fileRank, readWeighted, writeWeighted } from '../../io/fxp-kit.js';
import { linearAccRange } from '../../quant/accumulator.js';
import { buildWeighted } from '../quant-kit.js';

/** 2-D convolution, grouped or not (weights [Cout, Cin/group, kh, kw]). */
export const conv: OpModule<'conv'> = {
  kind: 'conv',
  onnx: {
    Conv(c) {
      const { where, at, ins, xShape } = c;
      if (!c.shape(ins[0])) throw new UnsupportedError(`${where}: the data input must be the dynamic tensor`);
      const w = c.needConst(1, 'the weight');
      if (w.dims.length !== 4)
        throw new UnsupportedError(`${where}: only 2-D convolutions (4-D weights) are supported, weight is [${w.dims}]`);
      nonEmpty(w.dims, 'the weight', where);
      const b = c.c(2);
      if (ins[2] && !b) throw new UnsupportedError(`${where}: the bias must be a constant`);
      if (b && b.data.length !== w.dims[0])
        throw new FxpqError(`${where}: the bias of shape ${fmtShape(b.dims)} must hold one value per output channel (${w.dims[0]})`);
      c.budget.take(w.dims[0], 8, `${where}: its bias`);
      const k: [number, number] = [w.dims[2], w.dims[3]];
      const strides = positive(pair(at.ints('strides', [1, 1])!), 'strides', where);
      const dil = positive(pair(at.ints('dilations', [1, 1])!), 'dilations', where);
      const pads = resolvePads(at, xShape, k, strides, dil, where);
      if (!pads.every((v) => Number.isInteger(v) && v >= 0)) throw new FxpqError(`${where}: pads [${pads}] must be non-negative integers`);
      c.emit({
        kind: 'conv',
        weight: { shape: w.dims, data: w.data },
        bias: b ? b.data.slice() : new Float64Array(w.dims[0]),
        strides,
        pads,
        dilations: dil,
        group: at.int('group', 1),
      });
    },
  },
  checkWork: convWork,
  shape(op, [x], where) {
    needRank(x, 3, where);
    const [cout, cinPerGroup, kh, kw] = op.weight.shape;
    if (x[0] !== cinPerGroup * op.group) {
      throw new FxpqError(`${where}: input has ${x[0]} channels but the weights expect ${cinPerGroup} x group ${op.group}`);
    }
    if (cout % op.group !== 0) throw new FxpqError(`${where}: ${cout} output channels not divisible by group ${op.group}`);
    const [ho, wo] = convOutHW(x[1], x[2], [kh, kw], op.strides, op.pads, op.dilations);
    if (ho < 1 || wo < 1) throw new FxpqError(`${where}: kernel larger than the padded input [${x.join(', ')}]`);
    return [cout, ho, wo];
  },
  float: (op, [x], batch, [inShape], scratch) => K.conv(op, x, batch, inShape, scratch),
  exactBound: (op, [b0]) => weightedBound(op.weight.data, op.bias, b0),
  stats: (op, _ins, out) => ({
    params: op.weight.data.length + op.bias.length,
    macs: size(out) * op.weight.shape[1] * op.weight.shape[2] * op.weight.shape[3],
  }),
  role: 'layer',
  quant: {
    passThrough: false,
    fusesActivation: true,
    arity: [1, 1],
    build: (src, c) => ({
      kind: 'conv',
      ...buildWeighted(src, c),
      strides: src.strides,
      pads: src.pads,
      dilations: src.dilations,
      group: src.group,
      act: c.act,
    }),
    accRange: (op, [inF]) => linearAccRange(op, inF),
    intref(op, c) {
      const [inF] = c.inFormats;
      const xr = I.intForm(op, inF, c.outFormat) ? c.res(0) : null;
      return (
        (xr && c.resident(I.convResidentOp(op, xr, inF, c.outFormat))) ?? {
          f: I.conv(op, c.f64(0), c.batch, c.inShapes[0], inF, c.outFormat, c.scratch),
        }
      );
    },
    shape(op, [x], where) {
      fileRank(x, 3, where);
      const [ho, wo] = convOutHW(x[1], x[2], [op.weight.shape[2], op.weight.shape[3]], op.strides, op.pads, op.dilations);
      return [op.weight.shape[0], ho, wo];
    },
    checkWork: convWork,
    file: {
      attrs: { strides: 'pair', pads: 'pads', dilations: 'pair', group: 'positive' },
      write(op, fl) {
        writeWeighted(op, fl);
        Object.assign(fl.attrs, { strides: op.strides, pads: op.pads, dilations: op.dilations, group: op.group, act: op.act });
      },
      read(L, [inShape], where, budget) {
        const act = fileAct(L, where);
        const w = readWeighted(L, where, budget);
        const a = L.attrs as {
          strides?: [number, number];
          pads?: [number, number, number, number];
          dilations?: [number, number];
          group?: number;
        };
        const group = a.group ?? 1,
          shape = w.weight.shape;
        if (shape.length !== 4 || inShape.length !== 3 || shape[1] * group !== inShape[0] || shape[0] % group !== 0) {
          throw new FxpqError(`${where} field weights.shape: [${shape}] (group ${group}) does not fit input [${inShape}]`);
        }
        return {
          kind: 'conv',
          ...w,
          strides: a.strides ?? [1, 1],
          pads: a.pads ?? [0, 0, 0, 0],
          dilations: a.dilations ?? [1, 1],
          group,
          act,
        };
      },
    },
  },
};

/** The convolution's work per sample, from its weight shape (float and quantized ops alike). */
function convWork(op: { weight: { shape: number[] } }, [x]: number[][], out: number[], where: string): void {
  const [cout, cinG, kh, kw] = op.weight.shape;
  checkConvWork({ cout, cinG, kh, kw, inElements: size(x), outPixels: out[1] * out[2] }, where);
}
