import * as K from '../../engine/kernels.js';
import { needRank, type OpModule } from '../op-module.js';

/** Zero padding that could not be merged into the convolution after it. */
export const pad: OpModule<'pad'> = {
  kind: 'pad',
  shape(op, [x], where) {
    needRank(x, 3, where);
    return [x[0], x[1] + op.pads[0] + op.pads[2], x[2] + op.pads[1] + op.pads[3]];
  },
  float: (op, [x], batch, [inShape]) => K.pad(op, x, batch, inShape),
  exactBound: (_op, [b0]) => b0,
};
