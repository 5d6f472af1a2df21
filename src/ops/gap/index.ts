import * as K from '../../engine/kernels.js';
import { needRank, type OpModule } from '../op-module.js';
import * as I from '../../intref/ops.js';
import { fileRank, need } from '../../io/fxp-kit.js';
import { poolAccRange } from '../../quant/accumulator.js';
import { RECIP_BITS } from '../quant-kit.js';

/** Global average pooling: [C, H, W] to [C, 1, 1]. */
export const gap: OpModule<'gap'> = {
  kind: 'gap',
  onnx: { GlobalAveragePool: (c) => c.emit({ kind: 'gap' }) },
  shape(_op, [x], where) {
    needRank(x, 3, where);
    return [x[0], 1, 1];
  },
  float: (_op, [x], batch, [inShape]) => K.gap(x, batch, inShape),
  exactBound: (_op, [b0]) => b0,
  role: 'layer',
  quant: {
    passThrough: false,
    fusesActivation: false,
    arity: [1, 1],
    build: () => ({ kind: 'gap', recipBits: RECIP_BITS }),
    accRange: (op, [inF], [x]) => poolAccRange(inF, x[1] * x[2], op.recipBits, false),
    intref: (op, c) => ({ f: I.gap(op, c.f64(0), c.batch, c.inShapes[0], c.inFormats[0], c.outFormat) }),
    shape(_op, [x], where) {
      fileRank(x, 3, where);
      return [x[0], 1, 1];
    },
    file: {
      attrs: { recipBits: 'recipBits' },
      write: (op, fl) => {
        fl.attrs.recipBits = op.recipBits;
      },
      read: (L, _ins, where) => ({ kind: 'gap', recipBits: need((L.attrs as { recipBits?: number }).recipBits, where, 'attrs.recipBits') }),
    },
  },
};
