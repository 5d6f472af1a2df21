import * as K from '../../engine/kernels.js';
import { needRank, type OpModule } from '../op-module.js';

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
};
