import * as K from '../../engine/kernels.js';
import { needRank, type OpModule } from '../op-module.js';
import { UnsupportedError } from '../../errors.js';
import { fileRank, need } from '../../io/fxp-kit.js';

/** Zero padding that could not be merged into the convolution after it. */
export const pad: OpModule<'pad'> = {
  kind: 'pad',
  onnx: {
    Pad(c) {
      const { where, at, ins, xShape } = c;
      const mode = at.str('mode', 'constant');
      if (mode !== 'constant') throw new UnsupportedError(`${where}: only constant (zero) padding is supported, got mode '${mode}'`);
      const pads = c.opset >= 11 ? Array.from(c.needConst(1, 'pads').data) : at.ints('pads', [])!;
      const value = c.opset >= 11 ? (ins[2] ? c.needConst(2, 'constant_value').data[0] : 0) : at.float('value', 0);
      if (value !== 0) throw new UnsupportedError(`${where}: only zero padding is supported, got value ${value}`);
      if (ins[3]) throw new UnsupportedError(`${where}: the axes input of Pad is not supported`);
      const r = xShape.length + 1;
      if (r !== 4 || pads.length !== 8 || pads[0] || pads[1] || pads[4] || pads[5] || pads.some((p) => p < 0)) {
        throw new UnsupportedError(`${where}: only non-negative spatial padding of an NCHW tensor is supported`);
      }
      c.emit({ kind: 'pad', pads: [pads[2], pads[3], pads[6], pads[7]] });
    },
  },
  shape(op, [x], where) {
    needRank(x, 3, where);
    return [x[0], x[1] + op.pads[0] + op.pads[2], x[2] + op.pads[1] + op.pads[3]];
  },
  float: (op, [x], batch, [inShape]) => K.pad(op, x, batch, inShape),
  exactBound: (_op, [b0]) => b0,
  role: 'layer',
  quant: {
    passThrough: true,
    fusesActivation: false,
    arity: [1, 1],
    build: (src) => ({ kind: 'pad', pads: src.pads }),
    intref: (op, c) => ({ f: K.pad(op, c.f64(0), c.batch, c.inShapes[0]) }),
    shape(op, [x], where) {
      fileRank(x, 3, where);
      return [x[0], x[1] + op.pads[0] + op.pads[2], x[2] + op.pads[1] + op.pads[3]];
    },
    file: {
      attrs: { pads: 'pads' },
      write: (op, fl) => {
        fl.attrs.pads = op.pads;
      },
      read: (L, _ins, where) => ({
        kind: 'pad',
        pads: need((L.attrs as { pads?: [number, number, number, number] }).pads, where, 'attrs.pads'),
      }),
    },
  },
};
