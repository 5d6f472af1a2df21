import * as K from '../../engine/kernels.js';
import { needRank, type OpModule } from '../op-module.js';
import { weightedBound } from '../weighted-bound.js';
import { FxpqError, UnsupportedError } from '../../errors.js';
import { nonEmpty } from '../../onnx/import-kit.js';
import { fmtShape } from '../../util/limits.js';
import { size } from '../../ir/types.js';
import * as I from '../../intref/ops.js';
import { fileAct, readWeighted, writeWeighted } from '../../io/fxp-kit.js';
import { linearAccRange } from '../../quant/accumulator.js';
import { buildWeighted } from '../quant-kit.js';

/** Fully connected: y = W x + b over a [F] input. */
export const dense: OpModule<'dense'> = {
  kind: 'dense',
  onnx: {
    Gemm(c) {
      const { where, at, ins } = c;
      if (at.int('transA', 0) !== 0)
        throw new UnsupportedError(`${where}: transA=1 is not supported (the batch is the first dimension of A)`);
      const b = c.needConst(1, 'B (the weight)');
      if (b.dims.length !== 2) throw new UnsupportedError(`${where}: B (the weight) must be 2-D, got ${fmtShape(b.dims)}`);
      const alpha = at.float('alpha', 1);
      const beta = at.float('beta', 1);
      const transB = at.int('transB', 0) === 1;
      const [r, cc] = b.dims;
      const [out, inp] = transB ? [r, cc] : [cc, r];
      nonEmpty(b.dims, 'B (the weight)', where);
      c.budget.take(out * inp + out, 8, `${where}: its weight ${fmtShape([out, inp])} and bias`);
      const w = new Float64Array(out * inp);
      for (let o = 0; o < out; o++)
        for (let i = 0; i < inp; i++) w[o * inp + i] = alpha * (transB ? b.data[o * inp + i] : b.data[i * out + o]);
      const bias = new Float64Array(out);
      const cT = c.c(2);
      if (ins[2] && !cT) throw new UnsupportedError(`${where}: C (the bias) must be a constant`);
      if (cT) {
        if (size(cT.dims) !== 1 && size(cT.dims) !== out)
          throw new UnsupportedError(`${where}: bias C of shape [${cT.dims}] must broadcast per output feature`);
        for (let o = 0; o < out; o++) bias[o] = beta * (size(cT.dims) === 1 ? cT.data[0] : cT.data[o]);
      }
      c.emit({ kind: 'dense', weight: { shape: [out, inp], data: w }, bias });
    },
    MatMul(c) {
      const { where, xShape } = c;
      const b = c.needConst(1, 'the second operand (the weight)');
      if (b.dims.length !== 2 || xShape.length !== 1)
        throw new UnsupportedError(`${where}: only [batch, K] x [K, M] with a constant right operand is supported`);
      const [inp, out] = b.dims;
      nonEmpty(b.dims, 'the weight', where);
      c.budget.take(out * inp + out, 8, `${where}: its weight ${fmtShape([out, inp])} and bias`);
      const w = new Float64Array(out * inp);
      for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) w[o * inp + i] = b.data[i * out + o];
      c.emit({ kind: 'dense', weight: { shape: [out, inp], data: w }, bias: new Float64Array(out) });
    },
  },
  shape(op, [x], where) {
    needRank(x, 1, where);
    const [out, inp] = op.weight.shape;
    if (x[0] !== inp) throw new FxpqError(`${where}: input has ${x[0]} features but the weights expect ${inp}`);
    return [out];
  },
  float: (op, [x], batch) => K.dense(op, x, batch),
  exactBound: (op, [b0]) => weightedBound(op.weight.data, op.bias, b0),
  stats: (op) => ({ params: op.weight.data.length + op.bias.length, macs: op.weight.data.length }),
  role: 'layer',
  quant: {
    passThrough: false,
    fusesActivation: true,
    arity: [1, 1],
    build: (src, c) => ({ kind: 'dense', ...buildWeighted(src, c), act: c.act }),
    accRange: (op, [inF]) => linearAccRange(op, inF),
    intref(op, c) {
      const [inF] = c.inFormats;
      const xr = I.intForm(op, inF, c.outFormat) ? c.res(0) : null;
      return (xr && c.resident(I.denseResidentOp(op, xr, inF, c.outFormat))) ?? { f: I.dense(op, c.f64(0), c.batch, inF, c.outFormat) };
    },
    shape: (op) => [op.weight.shape[0]],
    file: {
      attrs: {},
      write(op, fl) {
        writeWeighted(op, fl);
        fl.attrs.act = op.act;
      },
      read(L, [inShape], where, budget) {
        const act = fileAct(L, where);
        const w = readWeighted(L, where, budget);
        const shape = w.weight.shape;
        if (shape.length !== 2 || inShape.length !== 1 || shape[1] !== inShape[0])
          throw new FxpqError(`${where} field weights.shape: [${shape}] does not fit input [${inShape}]`);
        return { kind: 'dense', ...w, act };
      },
    },
  },
};
