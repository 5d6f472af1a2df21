import * as K from '../../engine/kernels.js';
import { type OpModule } from '../op-module.js';

/** Softmax over the features; only as the last node (the arg-max does not need it). */
export const softmax: OpModule<'softmax'> = {
  kind: 'softmax',
  shape: (_op, [x]) => [...x],
  float: (_op, [x], batch) => K.softmax(x, batch),
  exactBound: () => 1,
};
