import { FxpqError } from '../../errors.js';
import * as K from '../../engine/kernels.js';
import { needRank, type OpModule } from '../op-module.js';

/** Fully connected: y = W x + b over a [F] input. */
export const dense: OpModule<'dense'> = {
  kind: 'dense',
  shape(op, [x], where) {
    needRank(x, 1, where);
    const [out, inp] = op.weight.shape;
    if (x[0] !== inp) throw new FxpqError(`${where}: input has ${x[0]} features but the weights expect ${inp}`);
    return [out];
  },
  float: (op, [x], batch) => K.dense(op, x, batch),
  exactBound: (op, [b0]) => weightedBound(op.weight.data, op.bias, b0),
};

/**
 * Per output channel o: |b_o| + sum_k |w_ok| * B_in bounds every partial sum; the largest over the
 * channels.
 */
function weightedBound(w: Float64Array, bias: Float64Array, b0: number): number {
  const outs = bias.length, per = w.length / outs;
  let b = 0;
  for (let o = 0; o < outs; o++) {
    let s = Math.abs(bias[o]);
    for (let k = 0; k < per; k++) s += Math.abs(w[o * per + k]) * b0;
    b = Math.max(b, s);
  }
  return b;
}
