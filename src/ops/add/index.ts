import { FxpqError } from '../../errors.js';
import * as K from '../../engine/kernels.js';
import { type OpModule } from '../op-module.js';

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
};
