import { FxpqError } from '../../errors.js';
import * as K from '../../engine/kernels.js';
import { convOutHW } from '../../ir/geometry.js';
import { needRank, type OpModule } from '../op-module.js';

/** 2-D convolution, grouped or not (weights [Cout, Cin/group, kh, kw]). */
export const conv: OpModule<'conv'> = {
  kind: 'conv',
  shape(op, [x], where) {
    needRank(x, 3, where);
    const [cout, cinPerGroup, kh, kw] = op.weight.shape;
    if (x[0] !== cinPerGroup * op.group) {
      throw new FxpqError(`${where}: input has ${x[0]} channels but the weights expect ${cinPerGroup} x group ${op.group}`);
    }
    if (cout % op.group !== 0) throw new FxpqError(`${where}: ${cout} output channels not divisible by group ${op.group}`);
    const [ho, wo] = convOutHW(x[1], x[2], [kh, kw], op.strides, op.pads, op.dilations);
    if (ho < 1 || wo < 1) throw new FxpqError(`${where}: kernel larger than the padded input [${x.join(', ')}]`);
    return [cout, ho, wo];
  },
  float: (op, [x], batch, [inShape], scratch) => K.conv(op, x, batch, inShape, scratch),
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
