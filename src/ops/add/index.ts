import { FxpqError } from '../../errors.js';
import * as K from '../../engine/kernels.js';
import { type OpModule } from '../op-module.js';
import * as I from '../../intref/ops.js';
import { fileAct } from '../../io/fxp-kit.js';
import type { Val } from '../../intref/run-kit.js';
import { addAccRange } from '../../quant/accumulator.js';

/** Residual add of two tensors of one shape. */
export const add: OpModule<'add'> = {
  kind: 'add',
  onnx: {
    // Of two computed tensors: a residual add; with a constant: a bias folded into the layer before.
    Add: (c) => (c.dynamic.length === 2 ? c.emit({ kind: 'add' }, [c.ins[0], c.ins[1]]) : c.affine('Add')),
  },
  shape(_op, [x, y], where) {
    if (x.length !== y.length || x.some((v, i) => v !== y[i])) {
      throw new FxpqError(`${where}: operand shapes differ: [${x.join(', ')}] vs [${y.join(', ')}]`);
    }
    return [...x];
  },
  float: (_op, [a, b]) => K.add(a, b),
  exactBound: (_op, [a, b]) => a + b,
  role: 'layer',
  quant: {
    passThrough: false,
    fusesActivation: true,
    arity: [2, 2],
    build: (_src, c) => ({ kind: 'add', act: c.act }),
    accRange: (_op, [a, b]) => addAccRange(a, b),
    intref(op, c) {
      const [fa, fb] = c.inFormats;
      let y: Val | null = null;
      if (c.ins[0].r || c.ins[1].r) {
        const a = c.res(0),
          b = c.res(1);
        if (a && b) y = c.resident(I.addResidentOp(op, a, b, fa, fb, c.outFormat));
      }
      return y ?? { f: I.add(op, c.f64(0), c.f64(1), fa, fb, c.outFormat) };
    },
    shape(_op, [x, y], where) {
      if (x.join(',') !== y.join(',')) throw new FxpqError(`${where} field inputs: operand shapes differ`);
      return [...x];
    },
    file: {
      attrs: {},
      write: (op, fl) => {
        fl.attrs.act = op.act;
      },
      read: (L, _ins, where) => ({ kind: 'add', act: fileAct(L, where) }),
    },
  },
};
