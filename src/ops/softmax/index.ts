import * as K from '../../engine/kernels.js';
import { type OpModule } from '../op-module.js';
import { UnsupportedError } from '../../errors.js';

/** Softmax over the features; only as the last node (the arg-max does not need it). */
export const softmax: OpModule<'softmax'> = {
  kind: 'softmax',
  onnx: {
    Softmax(c) {
      const axis = c.at.int('axis', c.opset >= 13 ? -1 : 1);
      if (c.xShape.length !== 1 || (axis !== 1 && axis !== -1))
        throw new UnsupportedError(`${c.where}: only Softmax over the features of a [batch, classes] tensor is supported`);
      c.emit({ kind: 'softmax' });
    },
  },
  shape: (_op, [x]) => [...x],
  float: (_op, [x], batch) => K.softmax(x, batch),
  exactBound: () => 1,
  role: 'final',
  quant: undefined,
};
